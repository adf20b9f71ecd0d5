// The attendant closes a spot for a range of slots over one or more days (after a
// confirmation: bookings there are released), and reopens closures from the list.
import { formatWindow } from '../format.js';
import { ConfirmDialog } from './ConfirmDialog.js';

export const ClosuresPanel = {
  components: { ConfirmDialog },
  props: {
    desk: { type: Object, required: true },
    store: { type: Object, required: true },
  },
  data() {
    const day = this.store.state.date ?? '';
    return {
      spotId: '',
      fromDate: day,
      firstSlot: 0,
      toDate: day,
      lastSlot: 2,
      reason: '',
      busy: false, // preparing or sending the closure
      error: null,
      reopening: null, // the id of the closure being reopened
      listError: null,
    };
  },
  computed: {
    maxReason() {
      return this.desk.limits()?.max_reason; // the server's limit, GET /lot
    },
    slotLabels() {
      return this.store.state.calendar?.slots ?? [];
    },
    closing() {
      return this.desk.state.closing;
    },
  },
  watch: {
    // Untouched days follow the date the attendant is looking at.
    'store.state.date'(date, previous) {
      if (this.fromDate === (previous ?? '')) {
        this.fromDate = date;
      }
      if (this.toDate === (previous ?? '')) {
        this.toDate = date;
      }
    },
  },
  methods: {
    windowText(closure) {
      return formatWindow(closure.start_time, closure.end_time, this.store.state.timezone);
    },
    // The requests in flight make the button ignore further taps: one gesture, one intent.
    async run(action) {
      if (this.busy) {
        return;
      }
      this.busy = true;
      this.error = null;
      try {
        await action();
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },
    prepare() {
      const spot = this.store.state.spots.find((candidate) => candidate.id === this.spotId);
      return this.run(() =>
        this.desk.prepareClosure({
          spot,
          fromDate: this.fromDate,
          firstSlot: this.firstSlot,
          toDate: this.toDate,
          lastSlot: this.lastSlot,
          reason: this.reason.trim(),
        }),
      );
    },
    confirm() {
      return this.run(async () => {
        await this.desk.confirmClosure();
        this.reason = '';
      });
    },
    async reopen(closure) {
      if (this.reopening !== null) {
        return;
      }
      this.reopening = closure.id;
      this.listError = null;
      try {
        await this.desk.reopen(closure);
      } catch (error) {
        this.listError = error.message;
      } finally {
        this.reopening = null;
      }
    },
  },
  template: `
    <section class="desk-card" aria-labelledby="close-spot-heading">
      <h3 id="close-spot-heading" class="desk-card-heading">Close a spot</h3>
      <p class="desk-hint">Bookings of the spot in that time are released, and their drivers see your reason.</p>
      <form class="desk-form" @submit.prevent="prepare">
        <div class="form-group">
          <label for="closure-spot">Spot</label>
          <select id="closure-spot" v-model="spotId" required>
            <option value="" disabled>Choose a spot</option>
            <option v-for="spot in store.state.spots" :key="spot.id" :value="spot.id">
              Spot {{ spot.spot_number }} · Floor {{ spot.floor_number }}
            </option>
          </select>
        </div>
        <fieldset class="desk-when">
          <legend>From</legend>
          <input
            id="closure-from-day"
            v-model="fromDate"
            type="date"
            :min="store.state.calendar?.today"
            aria-label="First day"
            required
          />
          <select id="closure-from-slot" v-model="firstSlot" aria-label="First slot">
            <option v-for="(label, index) in slotLabels" :key="label" :value="index">{{ label }}</option>
          </select>
        </fieldset>
        <fieldset class="desk-when">
          <legend>Until (included)</legend>
          <input
            id="closure-to-day"
            v-model="toDate"
            type="date"
            :min="fromDate || store.state.calendar?.today"
            aria-label="Last day"
            required
          />
          <select id="closure-to-slot" v-model="lastSlot" aria-label="Last slot">
            <option v-for="(label, index) in slotLabels" :key="label" :value="index">{{ label }}</option>
          </select>
        </fieldset>
        <div class="form-group">
          <label for="closure-reason">Reason (drivers see it)</label>
          <input id="closure-reason" v-model="reason" type="text" :maxlength="maxReason" autocomplete="off" required />
        </div>
        <p class="error-msg" role="alert">{{ error }}</p>
        <button type="submit" class="btn btn-primary" :disabled="busy" :aria-busy="busy ? 'true' : null">
          Close the spot…
        </button>
      </form>

      <h4 class="desk-subheading">Closed now or soon</h4>
      <p v-if="desk.state.closuresFailed" class="desk-hint">The closures could not be loaded.</p>
      <p v-else-if="!desk.state.closures.length" class="desk-hint">No spot is closed in the next 30 days.</p>
      <ul v-else class="closure-list">
        <li v-for="closure in desk.state.closures" :key="closure.id" class="closure-item" :data-closure="closure.id">
          <p class="closure-text">
            <strong>Spot {{ closure.spot_number }}</strong> · {{ windowText(closure) }}
            <span class="closure-reason">{{ closure.reason }}</span>
          </p>
          <button
            type="button"
            class="btn btn-secondary"
            :disabled="reopening === closure.id"
            :aria-label="'Reopen Spot ' + closure.spot_number + ', ' + windowText(closure)"
            @click="reopen(closure)"
          >
            {{ reopening === closure.id ? 'Reopening…' : 'Reopen' }}
          </button>
        </li>
      </ul>
      <p class="error-msg" role="alert">{{ listError }}</p>

      <ConfirmDialog
        v-if="closing"
        title="Close this spot?"
        confirm-label="Close it"
        cancel-label="Keep open"
        @confirm="confirm"
        @cancel="desk.cancelClosure()"
      >
        <p class="release-dialog-slot">Spot {{ closing.spot.spot_number }} · {{ closing.window }}</p>
        <p class="release-dialog-warning">
          Every booking of this spot in that time is released, and its driver sees your reason:
          “{{ closing.reason }}”.
        </p>
      </ConfirmDialog>
    </section>
  `,
};

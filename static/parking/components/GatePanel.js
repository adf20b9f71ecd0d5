// Gate mode, at the top of the attendant's page: a plate field, then one card per holder of
// the plate with one-tap actions, each confirmed in its card.
import { formatClock } from '../format.js';
import { holderKey } from '../gate.js';

export const GatePanel = {
  props: {
    gate: { type: Object, required: true },
    timezone: { type: String, default: null },
    limits: { type: Object, default: null }, // the server's, GET /lot; null until it is read
  },
  data() {
    return { typed: '', reasons: {} };
  },
  computed: {
    state() {
      return this.gate.state;
    },
    holders() {
      return this.state.lookup?.holders ?? [];
    },
    freeNow() {
      return this.describeFree(this.state.lookup?.free_now);
    },
    freeNext() {
      return this.describeFree(this.state.lookup?.free_next);
    },
  },
  methods: {
    key: holderKey,
    card(holder) {
      return this.gate.card(holder ? holderKey(holder) : 'new');
    },
    name(holder) {
      return holder.kind === 'driver' ? holder.display_name : `${holder.guest_name} (walk-in)`;
    },
    plateOf(holder) {
      return holder.kind === 'driver' ? holder.vehicle.licence_plate : holder.licence_plate;
    },
    clock(instant) {
      return formatClock(instant, this.timezone);
    },
    booking(entry) {
      const slot = `${this.clock(entry.slot.start_time)}–${this.clock(entry.slot.end_time)}`;
      return `Spot ${entry.spot_number} · Floor ${entry.floor_number} · ${slot}`;
    },
    describeFree(free) {
      if (!free) {
        return null;
      }
      const slot = `${this.clock(free.slot.start_time)}–${this.clock(free.slot.end_time)}`;
      if (!free.spots.length) {
        return `${slot}: nothing free`;
      }
      const floors = [...new Set(free.spots.map((spot) => spot.floor_number))].sort((a, b) => a - b);
      const count = `${free.spots.length} free`;
      return `${slot}: ${count} (floor ${floors.join(', ')}: #${free.spots.map((spot) => spot.spot_number).join(' #')})`;
    },
    search() {
      this.gate.lookUp(this.typed);
    },
    release(holder) {
      const reason = (this.reasons[holderKey(holder)] ?? '').trim();
      if (reason) {
        this.gate.release(holder, reason);
      }
    },
  },
  template: `
    <section class="gate" aria-labelledby="gate-heading">
      <h2 id="gate-heading" class="gate-heading">At the gate</h2>
      <form class="gate-search" role="search" @submit.prevent="search">
        <label for="gate-plate" class="gate-label">Licence plate</label>
        <div class="gate-search-row">
          <input
            id="gate-plate"
            v-model="typed"
            class="gate-plate"
            type="text"
            inputmode="text"
            autocapitalize="characters"
            autocomplete="off"
            autocorrect="off"
            spellcheck="false"
            enterkeyhint="search"
            maxlength="64"
            placeholder="AB-123-CD"
          />
          <button type="submit" class="btn btn-primary gate-look-up" :aria-busy="state.searching ? 'true' : null">
            {{ state.searching ? 'Looking…' : 'Look up' }}
          </button>
        </div>
      </form>
      <p v-if="state.error" class="error-msg" role="alert">{{ state.error }}</p>

      <div v-if="state.lookup" class="gate-results" aria-live="polite">
        <article v-for="holder in holders" :key="key(holder)" class="gate-card" :data-holder="key(holder)">
          <h3 class="gate-card-name">{{ name(holder) }}</h3>
          <p class="gate-card-plate">
            <span class="licence-plate">{{ plateOf(holder) }}</span>
            <template v-if="holder.vehicle?.label"> · {{ holder.vehicle.label }}</template>
          </p>
          <p v-if="holder.current" class="gate-card-booking">
            <strong>{{ booking(holder.current) }}</strong>
            <span v-if="holder.current.checked_in_at" class="gate-arrived">Checked in {{ clock(holder.current.checked_in_at) }}</span>
            <span v-else class="gate-awaited">Not checked in yet</span>
          </p>
          <p v-else class="gate-card-booking">Nothing booked now.</p>
          <p v-if="holder.next" class="gate-card-next">Next today: {{ booking(holder.next) }}</p>

          <div v-if="card(holder).releasing" class="gate-release">
            <label :for="'gate-reason-' + key(holder)">Reason (the driver sees it)</label>
            <input
              :id="'gate-reason-' + key(holder)"
              v-model="reasons[key(holder)]"
              class="gate-reason"
              type="text"
              :maxlength="limits?.max_reason"
              autocomplete="off"
            />
            <div class="gate-actions">
              <button type="button" class="btn btn-secondary" @click="gate.keepBooking(holder)">Keep it</button>
              <button
                type="button"
                class="btn btn-danger"
                :disabled="card(holder).busy || !(reasons[key(holder)] ?? '').trim()"
                @click="release(holder)"
              >Release</button>
            </div>
          </div>
          <div v-else class="gate-actions">
            <button
              v-if="holder.check_in_open"
              type="button"
              class="btn btn-primary"
              :disabled="card(holder).busy"
              @click="gate.checkIn(holder)"
            >Check in</button>
            <button v-if="holder.current" type="button" class="btn btn-secondary" @click="gate.askToRelease(holder)">Release…</button>
            <button
              v-if="!holder.current"
              type="button"
              class="btn btn-primary"
              :disabled="card(holder).busy"
              @click="gate.bookHere(holder)"
            >{{ holder.kind === 'driver' ? 'Book a spot here' : 'Book a walk-in here' }}</button>
          </div>
          <p class="gate-confirm" role="status">{{ card(holder).message }}</p>
          <p v-if="card(holder).error" class="error-msg" role="alert">{{ card(holder).error }}</p>
        </article>

        <article v-if="!holders.length" class="gate-card" data-holder="new">
          <h3 class="gate-card-name">No booking for <span class="licence-plate">{{ state.lookup.plate }}</span></h3>
          <div class="gate-actions">
            <button type="button" class="btn btn-primary" :disabled="card(null).busy" @click="gate.bookHere(null)">
              Book a walk-in here
            </button>
          </div>
          <p class="gate-confirm" role="status">{{ card(null).message }}</p>
          <p v-if="card(null).error" class="error-msg" role="alert">{{ card(null).error }}</p>
        </article>

        <p v-if="freeNow" class="gate-free">Now {{ freeNow }}</p>
        <p v-if="freeNext" class="gate-free">Next {{ freeNext }}</p>
      </div>
    </section>
  `,
};

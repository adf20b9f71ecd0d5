// The cell menu's booking: for a driver picked from the users, or for a walk-in (name and plate).
import { PlateInput } from './PlateInput.js';

export const BookForForm = {
  components: { PlateInput },
  props: {
    desk: { type: Object, required: true },
    armed: { type: Boolean, required: true },
  },
  data() {
    return {
      forWhom: 'driver', // or 'walk-in'
      userId: '',
      guestName: '',
      plate: '',
      busy: false,
      error: null,
    };
  },
  computed: {
    // The server's limits (GET /lot), so the fields stop where the server would refuse.
    limits() {
      const limits = this.desk.limits();
      return { name: limits?.max_guest_name, plate: limits?.max_licence_plate };
    },
    drivers() {
      return this.desk.state.drivers;
    },
    chosen() {
      return this.drivers.find((driver) => driver.id === this.userId) ?? null;
    },
    upcoming() {
      const count = this.chosen.upcoming_bookings;
      return `${count} upcoming ${count === 1 ? 'booking' : 'bookings'}`;
    },
  },
  methods: {
    choose(forWhom) {
      this.forWhom = forWhom;
      this.error = null;
    },
    // A request in flight ignores further submits: one gesture, one intent.
    async submit() {
      if (!this.armed || this.busy) {
        return;
      }
      this.busy = true;
      this.error = null;
      const forWhom =
        this.forWhom === 'driver'
          ? { userId: this.userId }
          : { guest: { name: this.guestName.trim(), licence_plate: this.plate.trim() } };
      try {
        await this.desk.bookFor(forWhom);
      } catch (error) {
        this.error = error.message;
        this.busy = false;
      }
    },
  },
  template: `
    <form class="cell-menu-form" @submit.prevent="submit">
      <div class="choice" role="group" aria-label="Book for">
        <button
          type="button"
          class="btn choice-option"
          :aria-pressed="String(forWhom === 'driver')"
          @click="choose('driver')"
        >A driver</button>
        <button
          type="button"
          class="btn choice-option"
          :aria-pressed="String(forWhom === 'walk-in')"
          @click="choose('walk-in')"
        >A walk-in</button>
      </div>
      <div v-if="forWhom === 'driver'" class="form-group">
        <label for="book-for-driver">Driver</label>
        <select id="book-for-driver" v-model="userId" required autofocus>
          <option value="" disabled>{{ drivers.length ? 'Choose a driver' : 'Loading drivers…' }}</option>
          <option v-for="driver in drivers" :key="driver.id" :value="driver.id">{{ driver.display_name }}</option>
        </select>
        <p v-if="chosen" class="form-hint">{{ chosen.email }} · {{ upcoming }}</p>
      </div>
      <template v-else>
        <div class="form-group">
          <label for="walk-in-name">Name</label>
          <input
            id="walk-in-name"
            v-model="guestName"
            type="text"
            :maxlength="limits.name"
            autocomplete="off"
            required
          />
        </div>
        <div class="form-group">
          <label for="walk-in-plate">Licence plate</label>
          <PlateInput id="walk-in-plate" v-model="plate" :maxlength="limits.plate" />
        </div>
      </template>
      <p class="error-msg" role="alert">{{ error }}</p>
      <div class="release-dialog-actions">
        <button type="button" class="btn btn-secondary" @click="desk.closeCellMenu()">Cancel</button>
        <button type="submit" class="btn btn-primary" :disabled="!armed || busy" :aria-busy="busy ? 'true' : null">
          {{ busy ? 'Booking…' : 'Book' }}
        </button>
      </div>
    </form>
  `,
};

// The cell menu's arrival, for a taken cell: when the holder checked in, or a button that
// checks them in (walk-ins too) while the window is open, or when it opens.
import { formatClock, formatDay } from '../format.js';

export const MenuArrival = {
  props: {
    desk: { type: Object, required: true },
    arrivals: { type: Object, required: true },
    timezone: { type: String, required: true },
    armed: { type: Boolean, required: true },
  },
  data() {
    return { busy: false, error: null };
  },
  computed: {
    // The grid's own slot, so an arrival seen live while the menu is open shows at once.
    slot() {
      return this.desk.state.menu.slot;
    },
    arrived() {
      return this.slot.checkedInAt ? formatClock(this.slot.checkedInAt, this.timezone) : null;
    },
    open() {
      return this.arrivals.isOpen(this.slot);
    },
    opens() {
      const at = this.arrivals.opensAt(this.slot);
      return at > this.arrivals.state.now ? `${formatClock(at, this.timezone)} on ${formatDay(at, this.timezone)}` : null;
    },
  },
  methods: {
    // A request in flight ignores further taps: one gesture, one intent.
    async checkIn() {
      if (!this.armed || this.busy) {
        return;
      }
      this.busy = true;
      this.error = null;
      try {
        await this.desk.checkInHolder();
      } catch (error) {
        this.error = error.message;
        this.busy = false;
      }
    },
  },
  template: `
    <div class="cell-menu-arrival">
      <p v-if="arrived" class="cell-menu-arrived"><span aria-hidden="true">✓</span> Arrived at {{ arrived }}.</p>
      <button
        v-else-if="open"
        type="button"
        class="btn btn-primary"
        :disabled="!armed || busy"
        :aria-busy="busy ? 'true' : null"
        @click="checkIn"
      >
        {{ busy ? 'Checking in…' : 'Check in now' }}
      </button>
      <p v-else-if="opens" class="form-hint">Not arrived yet: check-in opens at {{ opens }}.</p>
      <p v-else class="form-hint">Not checked in; the slot has ended.</p>
      <p v-if="error" class="error-msg" role="alert">{{ error }}</p>
    </div>
  `,
};

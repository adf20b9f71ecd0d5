// Asks before a release: once freed, a slot is visible to and bookable by every driver at once.
import { formatDay } from '../format.js';

// The Release button wakes up this long after the dialog opens, so the second click of
// the double-click that opened it cannot land on it.
const ARM_DELAY_MS = 500;

export const ReleaseDialog = {
  props: {
    store: { type: Object, required: true },
  },
  data() {
    return { armed: false };
  },
  computed: {
    question() {
      return this.store.state.releasing;
    },
    // "Tue 24 Nov", the slot's day in the lot's zone.
    day() {
      return formatDay(this.question.slot.start_time, this.store.state.timezone);
    },
  },
  mounted() {
    this.$refs.dialog.showModal(); // modal: the grid behind it takes no clicks
    this.armTimer = setTimeout(() => {
      this.armed = true;
    }, ARM_DELAY_MS);
  },
  beforeUnmount() {
    clearTimeout(this.armTimer);
    this.$refs.dialog.close(); // gives focus back to the cell that opened it
  },
  methods: {
    release(event) {
      // detail 2+ is the rest of a multi-click; 0 is a key press, always deliberate.
      if (this.armed && event.detail <= 1) {
        this.store.confirmRelease();
      }
    },
  },
  // Escape (the dialog's cancel event) keeps the booking, like the default button.
  template: `
    <dialog
      ref="dialog"
      class="release-dialog"
      aria-labelledby="release-dialog-title"
      aria-describedby="release-dialog-warning"
      @cancel.prevent="store.keepBooking()"
    >
      <h2 id="release-dialog-title" class="release-dialog-title">Release this booking?</h2>
      <p class="release-dialog-slot">
        Spot {{ question.spot.spot_number }} · {{ question.slot.label }} · {{ day }}
      </p>
      <p id="release-dialog-warning" class="release-dialog-warning">
        The spot becomes free for everyone at once, so someone else may book it before you change your mind.
      </p>
      <div class="release-dialog-actions">
        <button type="button" class="btn btn-secondary" autofocus @click="store.keepBooking()">Keep it</button>
        <button type="button" class="btn btn-danger" :disabled="!armed" @click="release">Release</button>
      </div>
    </dialog>
  `,
};

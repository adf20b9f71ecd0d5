// Asks before a release: once freed, a slot is visible to and bookable by every driver at once.
import { formatDay } from '../format.js';
import { armedModal } from './armedModal.js';

// The Release button wakes up a moment after the dialog opens (armedModal).
export const ReleaseDialog = {
  mixins: [armedModal],
  props: {
    store: { type: Object, required: true },
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

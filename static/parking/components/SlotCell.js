// One grid cell: a button whose text, icon, colour and aria-label all say the slot's state.
// Its time is shown only on narrow screens, where the cells stack under their spot.

const STATE_DISPLAY = {
  available: { icon: '✓', text: 'Available', spoken: 'available' },
  booked: { icon: '✕', text: 'Booked', spoken: 'booked' },
  mine: { icon: '★', text: 'Yours', spoken: 'booked by you, press to release it' },
  past: { icon: '–', text: 'Past', spoken: 'in the past' },
  closed: { icon: '⊘', text: 'Closed', spoken: 'closed by the attendant' },
  pending: { icon: '…', text: 'Saving', spoken: 'saving, please wait' },
};

export const SlotCell = {
  props: {
    spot: { type: Object, required: true },
    timeSlot: { type: Object, required: true },
    state: { type: String, required: true },
    quiet: { type: Boolean, default: false }, // ignores clicks for a moment (see store.js)
  },
  emits: ['activate'],
  computed: {
    display() {
      return STATE_DISPLAY[this.state];
    },
    ariaLabel() {
      return `Spot ${this.spot.spot_number}, ${this.timeSlot.label}, ${this.display.spoken}`;
    },
  },
  // Booked, past and closed cells are truly disabled. A pending or quiet cell only sets
  // aria-disabled, so a keyboard user who just pressed it keeps focus on it.
  // A click with detail 2+ is the rest of a double-click: one gesture, one intent.
  template: `
    <button
      type="button"
      class="slot-cell"
      :class="'slot-' + state"
      :disabled="state === 'booked' || state === 'past' || state === 'closed'"
      :aria-disabled="state === 'pending' || quiet ? 'true' : null"
      :aria-busy="state === 'pending' ? 'true' : null"
      :aria-label="ariaLabel"
      :data-spot="spot.spot_number"
      :data-slot="timeSlot.label"
      :data-state="state"
      @click="$event.detail <= 1 && $emit('activate')"
    >
      <span class="slot-time">{{ timeSlot.label }}</span>
      <span class="slot-icon" aria-hidden="true">{{ display.icon }}</span>
      <span class="slot-text">{{ display.text }}</span>
      <span v-if="state === 'mine'" class="slot-action">Release</span>
    </button>
  `,
};

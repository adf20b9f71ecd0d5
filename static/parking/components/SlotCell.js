// One grid cell: a button whose text, icon, colour and aria-label all say the slot's state.
// Its time is shown only on narrow screens, where the cells stack under their spot.
// For the attendant (admin) a taken cell names its holder and their arrival, and free and
// taken cells open the cell menu (book for someone, check in, release with a reason).
import { formatClock, holderInFull, holderName } from '../format.js';

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
    admin: { type: Boolean, default: false },
    timezone: { type: String, required: true }, // the lot's, for the arrival's time
  },
  emits: ['activate'],
  computed: {
    display() {
      return STATE_DISPLAY[this.state];
    },
    holder() {
      return this.admin && this.state === 'booked' ? this.timeSlot.holder : null;
    },
    text() {
      return this.holder ? holderName(this.holder) : this.display.text;
    },
    // When the holder checked in, "14:02", or null. The board shows it in the cell; the
    // driver's own cell only speaks it (ArrivalControl shows it under the cell).
    arrival() {
      const { checkedInAt } = this.timeSlot;
      return checkedInAt && ['booked', 'mine'].includes(this.state) ? formatClock(checkedInAt, this.timezone) : null;
    },
    // A line under the text: the walk-in's name under their plate, a closure's reason.
    detail() {
      if (this.holder?.guest_name !== undefined) {
        return `Walk-in: ${this.holder.guest_name}`;
      }
      return this.admin && this.state === 'closed' ? this.timeSlot.closure?.reason : null;
    },
    // Taken cells that can be released say so; a free cell's tap speaks for itself.
    action() {
      return this.state === 'mine' || this.holder ? 'Release' : null;
    },
    spoken() {
      const arrived = this.arrival ? `, checked in at ${this.arrival}` : '';
      if (this.holder) {
        const offer = this.arrival ? 'release it' : 'check them in or release it';
        return `booked by ${holderInFull(this.holder)}${arrived}, press to ${offer}`;
      }
      if (this.admin && this.state === 'available') {
        return 'available, press to book it for a driver or a walk-in';
      }
      if (this.state === 'mine') {
        return `booked by you${arrived}, press to release it`;
      }
      return this.detail ? `${this.display.spoken}: ${this.detail}` : this.display.spoken;
    },
    ariaLabel() {
      return `Spot ${this.spot.spot_number}, ${this.timeSlot.label}, ${this.spoken}`;
    },
    disabled() {
      return this.state === 'past' || this.state === 'closed' || (this.state === 'booked' && !this.admin);
    },
  },
  // Past and closed cells, and for drivers booked ones, are truly disabled. A pending or
  // quiet cell only sets aria-disabled, so a keyboard user who just pressed it keeps focus.
  // A click with detail 2+ is the rest of a double-click: one gesture, one intent.
  template: `
    <button
      type="button"
      class="slot-cell"
      :class="'slot-' + state"
      :disabled="disabled"
      :aria-disabled="state === 'pending' || quiet ? 'true' : null"
      :aria-busy="state === 'pending' ? 'true' : null"
      :aria-label="ariaLabel"
      :data-spot="spot.spot_number"
      :data-slot="timeSlot.label"
      :data-state="state"
      :data-checked-in="arrival ? 'true' : null"
      @click="$event.detail <= 1 && $emit('activate')"
    >
      <span class="slot-time">{{ timeSlot.label }}</span>
      <span class="slot-icon" aria-hidden="true">{{ display.icon }}</span>
      <span class="slot-text">{{ text }}<span v-if="detail" class="slot-detail">{{ detail }}</span><span v-if="holder && arrival" class="slot-detail slot-arrival">✓ Arrived {{ arrival }}</span></span>
      <span v-if="action" class="slot-action">{{ action }}</span>
    </button>
  `,
};

// Under the driver's own cell: "I’ve arrived" while its check-in window is open, then
// "Checked in at 14:02" in the same place, so nothing under the finger moves.
import { formatClock } from '../format.js';

export const ArrivalControl = {
  props: {
    spot: { type: Object, required: true },
    timeSlot: { type: Object, required: true },
    arrivals: { type: Object, required: true },
    rules: { type: Object, default: null },
    timezone: { type: String, required: true },
  },
  computed: {
    checkedIn() {
      const { checkedInAt } = this.timeSlot;
      return checkedInAt ? formatClock(checkedInAt, this.timezone) : null;
    },
    offered() {
      return this.checkedIn === null && this.arrivals.isOpen(this.timeSlot);
    },
    sending() {
      return this.arrivals.state.sending.has(this.timeSlot.reservationId);
    },
    // While no-show release is on, the time by which the driver must check in.
    deadline() {
      const grace = this.rules?.no_show_grace_minutes;
      const at = Date.parse(this.timeSlot.start_time) + grace * 60_000;
      return grace > 0 && at > this.arrivals.state.now ? formatClock(at, this.timezone) : null;
    },
    ariaLabel() {
      return `I’ve arrived at Spot ${this.spot.spot_number}, ${this.timeSlot.label}`;
    },
  },
  methods: {
    // A click with detail 2+ is the rest of a double-click: one gesture, one intent.
    arrive(event) {
      if (event.detail <= 1) {
        this.arrivals.checkIn(this.spot, this.timeSlot);
      }
    },
  },
  template: `
    <p v-if="checkedIn" class="arrival-status" :data-for="spot.spot_number + ' ' + timeSlot.label">
      <span aria-hidden="true">✓</span> Checked in at {{ checkedIn }}
    </p>
    <div v-else-if="offered" class="arrival">
      <button
        type="button"
        class="btn btn-primary arrival-button"
        :aria-label="ariaLabel"
        :aria-disabled="sending ? 'true' : null"
        :aria-busy="sending ? 'true' : null"
        :data-for="spot.spot_number + ' ' + timeSlot.label"
        @click="arrive"
      >
        {{ sending ? 'Checking in…' : 'I’ve arrived' }}
      </button>
      <p v-if="deadline" class="arrival-deadline">Check in by {{ deadline }}, or the booking is released.</p>
    </div>
  `,
};

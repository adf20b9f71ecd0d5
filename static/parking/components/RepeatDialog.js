// "Repeat weekly…": the booking's spot and slot on chosen weekdays until an end date,
// then each date's outcome (booked, refused and why, or pending until bookings open).
import { formatDay } from '../format.js';
import { repeatStart } from '../myBookings.js';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function plusDays(date, days) {
  const day = new Date(`${date}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

export const RepeatDialog = {
  props: {
    myBookings: { type: Object, required: true },
  },
  data() {
    const { reservation } = this.myBookings.state.repeating;
    const { date, from } = repeatStart(reservation);
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay() || 7;
    // By default the same weekday for the next four weeks.
    return { weekdays: [weekday], until: plusDays(date, 28), fallback: true, from, date };
  },
  mounted() {
    this.$refs.dialog.showModal();
  },
  computed: {
    asked() {
      return this.myBookings.state.repeating;
    },
    maxUntil() {
      return plusDays(this.from, 365);
    },
  },
  methods: {
    WEEKDAYS: () => WEEKDAYS,
    submit() {
      if (this.weekdays.length) {
        this.myBookings.repeat({ weekdays: [...this.weekdays].sort(), until: this.until, fallback: this.fallback ? 'any' : 'none' });
      }
    },
    dayLabel(date) {
      return formatDay(`${date}T12:00:00Z`, 'UTC');
    },
    outcomeText(occurrence) {
      if (occurrence.status === 'booked') {
        return `Booked: Spot ${occurrence.reservation.spot_number}`;
      }
      if (occurrence.status === 'pending') {
        return 'Pending: booked when bookings open';
      }
      return `Not booked: ${occurrence.error.message}`;
    },
  },
  template: `
    <dialog ref="dialog" class="repeat-dialog" aria-labelledby="repeat-dialog-title" @cancel.prevent="myBookings.closeRepeat()">
      <h2 id="repeat-dialog-title" class="release-dialog-title">Repeat weekly</h2>
      <p class="release-dialog-slot">
        Spot {{ asked.reservation.spot_number }} · {{ asked.reservation.start_time.slice(11, 16) }}–{{ asked.reservation.end_time.slice(11, 16) }}, after {{ dayLabel(date) }}
      </p>
      <form v-if="!asked.outcomes" class="repeat-form" @submit.prevent="submit">
        <fieldset class="repeat-weekdays">
          <legend>On</legend>
          <label v-for="(name, index) in WEEKDAYS()" :key="name" class="repeat-weekday">
            <input v-model="weekdays" type="checkbox" :value="index + 1" /> {{ name }}
          </label>
        </fieldset>
        <label class="repeat-until">Until <input v-model="until" type="date" :min="from" :max="maxUntil" required /></label>
        <label class="repeat-fallback"><input v-model="fallback" type="checkbox" /> Another free spot when this one is taken</label>
        <p v-if="asked.error" class="repeat-error" role="alert">{{ asked.error }}</p>
        <div class="release-dialog-actions">
          <button type="button" class="btn btn-secondary" @click="myBookings.closeRepeat()">Cancel</button>
          <button type="submit" class="btn btn-primary" :disabled="asked.sending || !weekdays.length">Repeat</button>
        </div>
      </form>
      <template v-else>
        <ul class="repeat-outcomes" aria-label="Each date's outcome">
          <li v-for="occurrence in asked.outcomes" :key="occurrence.date" class="repeat-outcome" :data-status="occurrence.status">
            <span class="repeat-outcome-day">{{ dayLabel(occurrence.date) }}</span>
            <span>{{ outcomeText(occurrence) }}</span>
          </li>
        </ul>
        <div class="release-dialog-actions">
          <button type="button" class="btn btn-primary" autofocus @click="myBookings.closeRepeat()">Done</button>
        </div>
      </template>
    </dialog>
  `,
};

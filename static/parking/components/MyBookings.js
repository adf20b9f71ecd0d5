// "My bookings": the driver's next bookings (three, then "Show all"), each with Release,
// "I've arrived" while its window is open and "Repeat weekly…"; running series as groups
// that can be stopped. Offline it shows the last-known list, marked, with every control off.
import { formatClock, formatDay } from '../format.js';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const SHORT_LIST = 3;

export const MyBookings = {
  props: {
    myBookings: { type: Object, required: true },
  },
  data() {
    return { showAll: false };
  },
  computed: {
    state() {
      return this.myBookings.state;
    },
    shown() {
      return this.showAll ? this.state.reservations : this.state.reservations.slice(0, SHORT_LIST);
    },
    offlineText() {
      const savedAt = this.state.offline?.savedAt;
      return savedAt ? `Offline: as of ${formatClock(savedAt, undefined)}` : 'Offline: no saved bookings on this device';
    },
  },
  methods: {
    // The server writes times in the lot's zone: its date and clock are read off the text,
    // so the list reads the same offline, before the lot's calendar is known.
    day(reservation) {
      return formatDay(`${reservation.start_time.slice(0, 10)}T12:00:00Z`, 'UTC');
    },
    slot(reservation) {
      return `${reservation.start_time.slice(11, 16)}–${reservation.end_time.slice(11, 16)}`;
    },
    seriesText(series) {
      const days = series.weekdays.map((day) => WEEKDAYS[day - 1]).join(', ');
      const spot = series.spot_number === null ? 'any spot' : `Spot ${series.spot_number}`;
      return `Every ${days} · ${['08:00–12:00', '12:00–16:00', '16:00–20:00'][series.slot]} · ${spot} · until ${formatDay(`${series.until}T12:00:00Z`, 'UTC')}`;
    },
    checkInState(reservation) {
      return reservation.checked_in_at ? `Checked in at ${reservation.checked_in_at.slice(11, 16)}` : 'Not checked in yet';
    },
    inSeries(series) {
      return this.state.reservations.filter((reservation) => reservation.series_id === series.id).length;
    },
  },
  template: `
    <section class="my-bookings" aria-labelledby="my-bookings-title" :data-offline="state.offline ? 'true' : null">
      <div class="my-bookings-head">
        <h2 id="my-bookings-title" class="my-bookings-title">My bookings</h2>
        <p v-if="state.offline" class="my-bookings-offline" role="status">{{ offlineText }}</p>
      </div>
      <ul v-if="state.notes.length" class="my-bookings-notes">
        <li v-for="note in state.notes" :key="note.id" class="my-bookings-note">
          <span>{{ note.text }}</span>
          <button type="button" class="parking-notice-dismiss" aria-label="Dismiss message" @click="myBookings.dismissNote(note)">×</button>
        </li>
      </ul>
      <p v-if="state.loaded && !state.reservations.length" class="my-bookings-empty">No upcoming bookings.</p>
      <p v-else-if="!state.loaded && !state.offline" class="my-bookings-empty">Loading your bookings…</p>
      <ul class="my-bookings-list">
        <li v-for="reservation in shown" :key="reservation.id" class="my-booking" :data-reservation="reservation.id">
          <div class="my-booking-what">
            <span class="my-booking-when">{{ day(reservation) }} · {{ slot(reservation) }}</span>
            <span class="my-booking-where">Spot {{ reservation.spot_number }} · Floor {{ reservation.floor_number }}</span>
            <span class="my-booking-state">
              {{ checkInState(reservation) }}
              <template v-if="reservation.series_id !== null"> · weekly</template>
            </span>
          </div>
          <div class="my-booking-actions">
            <button
              v-if="myBookings.canCheckIn(reservation)"
              type="button"
              class="btn btn-primary"
              :disabled="state.offline !== null || state.busy.has(reservation.id)"
              @click="myBookings.checkIn(reservation)"
            >I've arrived</button>
            <button
              type="button"
              class="btn btn-secondary"
              :disabled="state.offline !== null || state.busy.has(reservation.id)"
              @click="myBookings.openRepeat(reservation)"
            >Repeat weekly…</button>
            <button
              type="button"
              class="btn btn-danger"
              :disabled="state.offline !== null || state.busy.has(reservation.id)"
              @click="myBookings.askRelease(reservation)"
            >Release</button>
          </div>
        </li>
      </ul>
      <button
        v-if="state.reservations.length > ${SHORT_LIST}"
        type="button"
        class="btn btn-secondary my-bookings-more"
        @click="showAll = !showAll"
      >{{ showAll ? 'Show the next ${SHORT_LIST}' : 'Show all (' + state.reservations.length + ')' }}</button>
      <ul v-if="state.series.length" class="my-series-list" aria-label="Weekly series">
        <li v-for="series in state.series" :key="series.id" class="my-series" :data-series="series.id">
          <span class="my-series-text">{{ seriesText(series) }} ({{ inSeries(series) }} upcoming)</span>
          <button
            type="button"
            class="btn btn-danger"
            :disabled="state.offline !== null || state.busy.has('series-' + series.id)"
            @click="myBookings.stopSeries(series)"
          >Stop series</button>
        </li>
      </ul>
    </section>
  `,
};

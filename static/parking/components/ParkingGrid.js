// The island's root: a message bar, the lot's timezone, a spots × time-slots table with
// "I've arrived" under the driver's own cells, the release dialog, the occupancy chart,
// the calendar link, the driver's vehicles, the API tokens and the history download. For the
// attendant (a desk is given) the table is the board, with gate mode above it, its cell menu
// and the attendant's desk.
import { ApiTokens } from './ApiTokens.js';
import { ArrivalControl } from './ArrivalControl.js';
import { AttendantDesk } from './AttendantDesk.js';
import { CalendarLink } from './CalendarLink.js';
import { CellMenu } from './CellMenu.js';
import { GatePanel } from './GatePanel.js';
import { MyBookings } from './MyBookings.js';
import { MyVehicles } from './MyVehicles.js';
import { NotificationBell } from './NotificationBell.js';
import { OccupancyChart } from './OccupancyChart.js';
import { ReleaseDialog } from './ReleaseDialog.js';
import { RepeatDialog } from './RepeatDialog.js';
import { SlotCell } from './SlotCell.js';
import { WaitlistPanel } from './WaitlistPanel.js';

// The phone layout's breakpoint (parking.css).
const PHONE = window.matchMedia('(max-width: 700px)');

export const ParkingGrid = {
  components: {
    ApiTokens,
    ArrivalControl,
    AttendantDesk,
    CalendarLink,
    CellMenu,
    GatePanel,
    MyBookings,
    MyVehicles,
    NotificationBell,
    OccupancyChart,
    ReleaseDialog,
    RepeatDialog,
    SlotCell,
    WaitlistPanel,
  },
  props: {
    store: { type: Object, required: true },
    stats: { type: Object, required: true },
    arrivals: { type: Object, required: true },
    desk: { type: Object, default: null }, // the attendant's
    calendarFeed: { type: Object, default: null }, // a driver's
    waitlist: { type: Object, required: true },
    gate: { type: Object, default: null }, // the attendant's gate mode
    vehicles: { type: Object, default: null }, // a driver's
    myBookings: { type: Object, default: null }, // a driver's
    apiTokens: { type: Object, required: true },
    inbox: { type: Object, default: null }, // a driver's
  },
  // My bookings come first on phones, where the grid is a long list of cards; on wider
  // screens they follow the grid, so a list that grows as the driver books never moves
  // the cell under their pointer.
  data() {
    return { phone: PHONE.matches };
  },
  mounted() {
    this.followWidth = (event) => {
      this.phone = event.matches;
    };
    PHONE.addEventListener('change', this.followWidth);
  },
  unmounted() {
    PHONE.removeEventListener('change', this.followWidth);
  },
  computed: {
    state() {
      return this.store.state;
    },
    // The attendant downloads everyone's reservations; a driver their own.
    downloadLabel() {
      if (this.state.downloading) {
        return this.desk ? 'Preparing the export…' : 'Preparing your history…';
      }
      return this.desk ? 'Download the last 30 days (CSV)' : 'Download my history (CSV)';
    },
    // Tells a driver the limit before a booking runs into it.
    limitText() {
      const limit = this.state.rules?.max_upcoming_per_driver;
      if (this.desk || limit === null || limit === undefined) {
        return null;
      }
      return `You may hold ${limit} upcoming ${limit === 1 ? 'booking' : 'bookings'} at a time.`;
    },
  },
  methods: {
    activate(spot, timeSlot) {
      return this.desk ? this.desk.openCellMenu(spot, timeSlot) : this.store.activate(spot, timeSlot);
    },
    // "Any spot" for a slot that has not ended and in which the driver holds no spot yet,
    // one request at a time.
    anySpotDisabled(column) {
      const index = this.state.slots.indexOf(column);
      const holdsOne = this.state.spots.some((spot) => this.store.displayedState(spot, spot.slots[index]) === 'mine');
      return holdsOne || Date.parse(column.end_time) <= this.arrivals.state.now || this.store.isBookingAny(column);
    },
    ownCell(spot, timeSlot) {
      return !this.desk && this.store.displayedState(spot, timeSlot) === 'mine';
    },
  },
  // The live regions stay in the DOM so screen readers announce each new message. They
  // stick to the top of the screen, so a driver far down the phone layout still reads why
  // a tap did nothing.
  template: `
    <section class="parking" aria-label="Parking availability">
      <div class="parking-messages">
        <div class="parking-live-region" role="status" aria-live="polite">
          <p v-if="state.tooManyTabs" class="parking-paused">
            <span class="parking-paused-dot" aria-hidden="true"></span>Too many open tabs: live updates are off here. Close another tab, then reload this one.
          </p>
          <p v-else-if="state.paused" class="parking-paused">
            <span class="parking-paused-dot" aria-hidden="true"></span>Live updates paused, reconnecting…
          </p>
        </div>
        <div class="parking-notice-region" role="status" aria-live="polite">
          <div v-if="state.notice" class="parking-notice">
            <span class="parking-notice-text">{{ state.notice }}</span>
            <button type="button" class="parking-notice-dismiss" aria-label="Dismiss message" @click="store.dismissNotice()">×</button>
          </div>
        </div>
      </div>

      <GatePanel v-if="gate" :gate="gate" :timezone="state.timezone" :limits="state.calendar?.limits" />
      <NotificationBell v-if="inbox" :inbox="inbox" :timezone="state.timezone" />

      <MyBookings v-if="myBookings && phone" :my-bookings="myBookings" />

      <p v-if="!state.spots.length" class="placeholder">
        {{ state.loading ? 'Loading slots…' : 'Slots could not be loaded.' }}
      </p>
      <template v-else>
        <p class="parking-timezone">Times are local to the parking lot ({{ state.timezone }}).</p>
        <p v-if="desk" class="parking-timezone">
          Tap a free cell to book it for a driver or a walk-in, a taken one to check them in or release it.
        </p>
        <p v-if="limitText" class="parking-timezone">{{ limitText }}</p>
        <div v-if="myBookings" class="any-spot-bar" role="group" aria-label="Book any free spot">
          <button
            v-for="column in state.slots"
            :key="column.start_time"
            type="button"
            class="btn btn-primary any-spot"
            :disabled="anySpotDisabled(column)"
            :aria-busy="store.isBookingAny(column) ? 'true' : null"
            @click="store.bookAny(column)"
          >Any spot, {{ column.label }}</button>
        </div>
        <WaitlistPanel :waitlist="waitlist" :store="store" :admin="desk !== null" />
        <div class="parking-grid-scroll">
          <table class="parking-grid">
            <thead>
              <tr>
                <th scope="col">Spot</th>
                <th v-for="column in state.slots" :key="column.start_time" scope="col">{{ column.label }}</th>
              </tr>
            </thead>
            <tbody>
              <tr v-for="spot in state.spots" :key="spot.id">
                <th scope="row">
                  <span class="parking-spot-number">Spot {{ spot.spot_number }}</span>
                  <span class="parking-spot-floor">Floor {{ spot.floor_number }}</span>
                  <span v-if="spot.type === 'handicap'" class="parking-badge" title="Reserved for drivers with a disability permit">♿ Accessible</span>
                </th>
                <td v-for="timeSlot in spot.slots" :key="timeSlot.start_time">
                  <SlotCell
                    :spot="spot"
                    :time-slot="timeSlot"
                    :state="store.displayedState(spot, timeSlot)"
                    :quiet="store.isQuiet(spot, timeSlot)"
                    :admin="desk !== null"
                    :timezone="state.timezone"
                    @activate="activate(spot, timeSlot)"
                  />
                  <ArrivalControl
                    v-if="ownCell(spot, timeSlot)"
                    :spot="spot"
                    :time-slot="timeSlot"
                    :arrivals="arrivals"
                    :rules="state.rules"
                    :timezone="state.timezone"
                  />
                  <button
                    v-if="ownCell(spot, timeSlot) && myBookings"
                    type="button"
                    class="btn btn-secondary repeat-from-cell"
                    :aria-label="'Repeat weekly: Spot ' + spot.spot_number + ', ' + timeSlot.label"
                    @click="myBookings.openRepeatOf(timeSlot.reservationId)"
                  >Repeat weekly…</button>
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      </template>

      <MyBookings v-if="myBookings && !phone" :my-bookings="myBookings" class="my-bookings-wide" />

      <ReleaseDialog v-if="state.releasing" :store="store" />
      <ReleaseDialog v-if="myBookings?.state.releasing" :store="myBookings.releaseQuestion" />
      <RepeatDialog v-if="myBookings?.state.repeating" :my-bookings="myBookings" />
      <CellMenu v-if="desk?.state.menu" :desk="desk" :arrivals="arrivals" :timezone="state.timezone" />

      <AttendantDesk v-if="desk" :desk="desk" :store="store" />

      <OccupancyChart :stats="stats" />

      <CalendarLink v-if="calendarFeed" :feed="calendarFeed" :store="store" />

      <MyVehicles v-if="vehicles" :vehicles="vehicles" :limits="state.calendar?.limits" />

      <ApiTokens :tokens="apiTokens" :store="store" />

      <div class="parking-actions">
        <button
          type="button"
          class="btn btn-secondary parking-download"
          :disabled="state.downloading"
          :aria-busy="state.downloading ? 'true' : null"
          @click="store.downloadHistory()"
        >
          {{ downloadLabel }}
        </button>
      </div>
    </section>
  `,
};

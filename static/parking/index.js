// Entry point of the Vue parking island: mount(el, options) returns its handle, {selectDate, unmount}.
import { createApp } from 'vue';
import { createApi } from './api.js';
import { createApiTokens } from './apiTokens.js';
import { createArrivals } from './arrivals.js';
import { createCalendarFeed } from './calendarFeed.js';
import { createDesk } from './desk.js';
import { createEventHandler } from './events.js';
import { createGate } from './gate.js';
import { createInbox } from './inbox.js';
import { createMyBookings } from './myBookings.js';
import { connectSocket } from './socket.js';
import { createStatsStore } from './stats.js';
import { createStore } from './store.js';
import { createVehicles } from './vehicles.js';
import { createWaitlist } from './waitlist.js';
import { ParkingGrid } from './components/ParkingGrid.js';

// How long the socket may be down before the page says live updates are paused.
const PAUSED_AFTER_MS = 2000;

/**
 * Mounts the parking grid into `el` and starts its live updates.
 *
 * options.initialDate      optional: the date to show first, YYYY-MM-DD; by default, and
 *                          whenever the shown date leaves the lot's calendar, the lot's today
 * options.getToken()       the current JWT, or null once it has expired
 * options.currentUser      {id, role, ...}: role "admin" mounts the attendant's mode: the board
 *                          with holders and arrivals, gate mode (a plate lookup) above it, the
 *                          cell menu and the desk with the lot's rules and recent actions (the
 *                          server enforces the role); a driver's mode has "I've arrived", "Add
 *                          to my calendar" and "My vehicles"
 * options.onUnauthorized() called at most once, when the API or socket rejects the session
 * options.onLotChange(calendar, date)
 *                          optional: called with GET /lot's answer and the date shown, once
 *                          the calendar is known and whenever either changes, so the host
 *                          can rebuild its date picker
 *
 * The host owns the date picker and calls handle.selectDate(date) when it changes;
 * handle.unmount() stops everything for good. el.dataset.socket says "open" or "closed";
 * after PAUSED_AFTER_MS closed, the grid says live updates are paused until the next resync.
 */
export function mount(el, options) {
  const { initialDate = null, getToken, currentUser, onUnauthorized, onLotChange = () => {} } = options;
  let mounted = true;
  // The host tears the island down in response, so a second 401 must not navigate twice.
  const unauthorized = () => {
    if (mounted) {
      unmount();
      onUnauthorized();
    }
  };

  const api = createApi({ getToken, onUnauthorized: unauthorized });
  const admin = currentUser?.role === 'admin';
  const stats = createStatsStore({ api });
  const store = createStore({
    api,
    loadGrid: admin ? api.getBoard : api.getSpots,
    exportHistory: admin ? api.exportAll : api.exportHistory,
    initialDate,
    onChange: () => {
      stats.refreshSoon();
      myBookings?.refresh();
    },
  });
  const desk = admin ? createDesk({ api, store, onChange: stats.refreshSoon }) : null;
  const arrivals = createArrivals({ api, store });
  // A driver's own list; each of their changes, from any tab, reads it again.
  const myBookings = admin ? null : createMyBookings({ api, store, currentUser, arrivals, onChange: () => store.refresh() });
  const calendarFeed = admin ? null : createCalendarFeed({ api });
  const vehicles = admin ? null : createVehicles({ api });
  const timezone = () => store.state.timezone ?? store.state.calendar?.timezone;
  const gate = admin ? createGate({ api, timezone, onChange: stats.refreshSoon }) : null;
  const apiTokens = createApiTokens({ api });
  // Integration: the driver's bell; notification.created comes to their own sockets only.
  const inbox = admin ? null : createInbox({ api });
  const applyEvent = createEventHandler({ store, onChange: stats.refreshSoon });
  const waitlist = createWaitlist({ api, store, admin });

  // The host hears of a new calendar, or of a date the island moved to, and of nothing
  // else: rebuilding a native select closes it under the driver's finger.
  const told = { calendar: null, date: null };
  function tellHost() {
    const { calendar, date } = store.state;
    const calendarText = JSON.stringify(calendar);
    if (mounted && calendar !== null && (calendarText !== told.calendar || date !== told.date)) {
      Object.assign(told, { calendar: calendarText, date });
      onLotChange(calendar, date);
    }
  }

  // Re-reads what may have changed unseen (after a reconnect, a resync message, a change
  // of the lot's rules): the calendar first, since it may move the date, then the grid.
  // Returns whether both could be read.
  async function resync() {
    if (!(await store.loadCalendar())) {
      return false;
    }
    tellHost();
    return store.refresh();
  }

  // A socket down for longer than a blip is shown, so a stale grid never passes for a live one.
  let pauseTimer = null;
  function socketStatusChanged(status) {
    el.dataset.socket = status;
    if (status === 'open') {
      clearTimeout(pauseTimer);
      pauseTimer = null;
    } else if (mounted && pauseTimer === null) {
      pauseTimer = setTimeout(store.pauseLiveUpdates, PAUSED_AFTER_MS);
    }
  }

  el.dataset.socket = 'closed';
  const socket = connectSocket({
    getToken,
    // Changes made while the socket was not listening show up in the snapshot and the chart;
    // only then is the grid live again.
    onResync: async () => {
      stats.refreshSoon();
      store.loadRules();
      desk?.loadClosures();
      waitlist.load();
      desk?.loadActions();
      myBookings?.refresh();
      desk?.loadFailedDeliveries();
      inbox?.load();
      if (await resync()) {
        store.resumeLiveUpdates();
      }
    },
    // The event carries the lot's new rules. They may move its booking horizon: re-read
    // the calendar too.
    onEvent: (event) => {
      if (event.type === 'rules.changed') {
        store.showRules(event);
        resync();
      } else if (event.type === 'notification.created') {
        inbox?.receive(event.notification);
      } else {
        applyEvent(event);
        desk?.applyEvent(event);
        waitlist.applyEvent(event);
        if (admin && event.type === 'waitlist.changed') {
          store.refresh(); // the board's counts of who waits
        }
        gate?.applyEvent(event);
        myBookings?.applyEvent(event);
      }
    },
    onUnauthorized: unauthorized,
    onTooManyTabs: store.showTooManyTabs,
    onStatusChange: socketStatusChanged,
  });
  store.loadRules();
  resync();
  myBookings?.refresh();
  stats.refresh();
  apiTokens.load();

  const app = createApp(ParkingGrid, {
    store, stats, arrivals, desk, calendarFeed, waitlist, gate, vehicles, myBookings, apiTokens, inbox,
  });
  app.mount(el);

  function unmount() {
    if (!mounted) {
      return;
    }
    mounted = false;
    clearTimeout(pauseTimer);
    socket.stop();
    stats.stop();
    arrivals.stop();
    myBookings?.stop();
    api.abort();
    app.unmount();
  }

  function selectDate(date) {
    if (mounted) {
      store.selectDate(date);
      told.date = date; // the host chose it
    }
  }

  return { selectDate, unmount };
}

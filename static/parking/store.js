// The island's state and the named actions that are the only code allowed to change it.
import { reactive } from 'vue';
import { saveFile } from './download.js';

// A slot is identified by its spot and its start instant. The server may spell
// one instant with different offsets, so start times are never compared as strings.
function slotKey(spotId, startTime) {
  return `${spotId}@${Date.parse(startTime)}`;
}

// One gesture, one intent: the second click of a double-click, or a tap repeated at
// human speed (60–200 ms), must not undo the first. A cell is quiet (ignores clicks)
// for this long after the driver's own change to it took effect, and the whole grid
// is after the release dialog closes, since its button may sit over any cell.
const QUIET_AFTER_CHANGE_MS = 500;
const WHOLE_GRID = 'grid';

function stateAfterRelease(endTime) {
  return Date.parse(endTime) <= Date.now() ? 'past' : 'available';
}

// API slot -> grid slot: a slot booked by the caller gets its own state, "mine".
// Only the attendant's board names a taken cell's holder and a closed cell's closure;
// the arrival (checkedInAt) is on the driver's own cells and on the board's taken ones.
function toGridSlot(slot) {
  return {
    label: slot.label,
    start_time: slot.start_time,
    end_time: slot.end_time,
    state: slot.mine ? 'mine' : slot.state,
    reservationId: slot.reservation_id ?? null,
    holder: slot.holder ?? null,
    checkedInAt: slot.checked_in_at ?? null,
    closure: slot.closure ?? null,
  };
}

// onChange() is called after the driver's own booking or release: the occupancy chart
// refreshes on it (events.js does the same for everyone else's).
// initialDate (YYYY-MM-DD or null) is shown first if the lot's calendar still offers it.
// loadGrid(date) reads one day's grid and exportHistory() the CSV download: the driver's
// own, or the attendant's board and everyone's reservations.
export function createStore({
  api,
  loadGrid = api.getSpots,
  exportHistory = api.exportHistory,
  initialDate,
  onChange = () => {},
}) {
  const state = reactive({
    calendar: null, // the lot's calendar, GET /lot: {timezone, today, last_bookable_day, slots, limits}
    rules: null, // the lot's rules, GET /rules, or null until read
    date: initialDate, // the selected date in the lot's calendar, YYYY-MM-DD
    timezone: null,
    slots: [], // column headers: [{label, start_time, end_time}]
    spots: [], // rows: [{id, spot_number, floor_number, type, slots: [grid slot]}]
    loading: true, // the island starts loading at once: the calendar, then the grid
    notice: null, // text of the message bar, or null
    pending: new Set(), // slotKeys with a request in flight
    quiet: new Set(), // slotKeys, or WHOLE_GRID, that ignore clicks for a moment
    releasing: null, // {spot, slot} the driver is asked to confirm releasing, or null
    paused: false, // live updates are off (the socket has been down a while); the grid may be stale
    tooManyTabs: false, // the server refused this tab's socket: the account has too many open
    downloading: false, // the history export is on its way
    waiting: [], // the attendant's board: how many drivers wait per slot, [{start_time, end_time, waiting}]
  });
  let latestLoad = 0;
  const quietTimers = new Map(); // key in state.quiet -> the timer that ends its quiet

  function findSlot(spotId, startTime) {
    const key = slotKey(spotId, startTime);
    const spot = state.spots.find((candidate) => candidate.id === spotId);
    return spot?.slots.find((slot) => slotKey(spotId, slot.start_time) === key);
  }

  // Finds the slot again rather than trusting an old reference: a snapshot may have
  // replaced it, or another date may be shown, by the time a response arrives.
  function updateSlot(spotId, startTime, changes) {
    const slot = findSlot(spotId, startTime);
    if (slot) {
      Object.assign(slot, changes);
    }
  }

  function showError(error) {
    state.notice = error.message;
  }

  // After a failed write the grid cannot be trusted (a lost response may even hide a
  // success, and "slot taken" may mean taken by you in another tab): reload it.
  function writeFailed(error) {
    showError(error);
    refresh();
  }

  // Returns whether the snapshot could be read.
  async function refresh() {
    // Only the newest load may write: a late answer for a date that is no longer
    // selected, or an older snapshot of the same date, is dropped.
    const loadId = ++latestLoad;
    state.loading = true;
    try {
      const snapshot = await loadGrid(state.date);
      if (loadId === latestLoad) {
        state.timezone = snapshot.timezone;
        state.slots = snapshot.slots;
        state.spots = snapshot.spots.map((spot) => ({ ...spot, slots: spot.slots.map(toGridSlot) }));
        state.waiting = snapshot.waitlist ?? [];
      }
      return true;
    } catch (error) {
      if (loadId === latestLoad) {
        showError(error);
      }
      return false;
    } finally {
      if (loadId === latestLoad) {
        state.loading = false;
      }
    }
  }

  function showDate(date) {
    state.releasing = null; // the question was about a cell of the old date
    state.date = date;
    state.spots = []; // never show one day's grid while another day is selected
  }

  function selectDate(date) {
    showDate(date);
    return refresh();
  }

  // Reads the lot's calendar. Its today rolls over at the lot's midnight and its horizon
  // can change, so a date that is no longer bookable gives way to the lot's today.
  // Returns whether the calendar could be read.
  async function loadCalendar() {
    try {
      const calendar = await api.getLot();
      state.calendar = calendar;
      if (state.date === null || state.date < calendar.today || state.date > calendar.last_bookable_day) {
        showDate(calendar.today); // YYYY-MM-DD strings compare in calendar order
      }
      return true;
    } catch (error) {
      showError(error);
      state.loading = false;
      return false;
    }
  }

  function quietFor(key) {
    clearTimeout(quietTimers.get(key));
    state.quiet.add(key);
    quietTimers.set(key, setTimeout(() => state.quiet.delete(key), QUIET_AFTER_CHANGE_MS));
  }

  function isQuiet(spot, slot) {
    return state.quiet.has(WHOLE_GRID) || state.quiet.has(slotKey(spot.id, slot.start_time));
  }

  function displayedState(spot, slot) {
    return state.pending.has(slotKey(spot.id, slot.start_time)) ? 'pending' : slot.state;
  }

  // Shows the slot as pending while `request` runs; every path, errors included, ends it.
  async function withPending(spot, slot, request) {
    const key = slotKey(spot.id, slot.start_time);
    state.pending.add(key);
    try {
      await request();
    } finally {
      state.pending.delete(key);
      quietFor(key);
    }
  }

  function book(spot, slot) {
    return withPending(spot, slot, async () => {
      try {
        const reservation = await api.createReservation({
          spotId: spot.id,
          startTime: slot.start_time,
          endTime: slot.end_time,
        });
        updateSlot(spot.id, slot.start_time, { state: 'mine', reservationId: reservation.id, checkedInAt: null });
        onChange();
      } catch (error) {
        if (error.code === 'slot_taken') {
          updateSlot(spot.id, slot.start_time, { state: 'booked', reservationId: null }); // at once, before the reload
        }
        writeFailed(error);
      }
    });
  }

  // "Any spot" for one slot of the shown date: the server picks the spot (lowest floor,
  // then number) as it books, and the grid shows where.
  function bookAny(slot) {
    const key = `any@${Date.parse(slot.start_time)}`;
    if (state.pending.has(key)) {
      return;
    }
    state.pending.add(key);
    return (async () => {
      try {
        const reservation = await api.bookAnySpot({ startTime: slot.start_time, endTime: slot.end_time });
        updateSlot(reservation.spot_id, slot.start_time, { state: 'mine', reservationId: reservation.id, checkedInAt: null });
        state.notice = `Booked Spot ${reservation.spot_number} (Floor ${reservation.floor_number}) for ${slot.label}.`;
        onChange();
      } catch (error) {
        writeFailed(error);
      } finally {
        state.pending.delete(key);
      }
    })();
  }

  function isBookingAny(slot) {
    return state.pending.has(`any@${Date.parse(slot.start_time)}`);
  }

  function release(spot, slot) {
    return withPending(spot, slot, async () => {
      const { reservationId } = slot;
      try {
        await api.completeReservation(reservationId);
        // The events may have come first, and the slot may be someone else's already: the
        // waitlist hands a freed spot on in the release's own transaction.
        const current = findSlot(spot.id, slot.start_time);
        if (current?.state === 'mine' && current.reservationId === reservationId) {
          updateSlot(spot.id, slot.start_time, { state: stateAfterRelease(slot.end_time), reservationId: null });
        }
        onChange();
      } catch (error) {
        writeFailed(error);
      }
    });
  }

  // What a click on a grid cell does: book a free slot, ask before releasing your own,
  // ignore the rest, and ignore every click on a quiet cell.
  function activate(spot, slot) {
    if (isQuiet(spot, slot)) {
      return;
    }
    const shown = displayedState(spot, slot);
    if (shown === 'available') {
      return book(spot, slot);
    }
    if (shown === 'mine') {
      state.releasing = { spot, slot };
    }
  }

  // A dialog's button may sit over any cell: the click that closed it must not land on one.
  function quietAfterDialog() {
    quietFor(WHOLE_GRID);
  }

  function closeReleaseDialog() {
    state.releasing = null;
    quietAfterDialog();
  }

  function keepBooking() {
    closeReleaseDialog();
  }

  // The driver confirmed. The slot is found again: a snapshot may have replaced it, and
  // the sweeper or another tab may have released it while the question was open.
  function confirmRelease() {
    const { spot, slot: asked } = state.releasing;
    closeReleaseDialog();
    const slot = findSlot(spot.id, asked.start_time);
    if (slot && displayedState(spot, slot) === 'mine') {
      return release(spot, slot);
    }
    state.notice = 'That booking had already been released.';
  }

  // A booking seen on the grid. Only the holder's own sockets (mine) and the attendant's
  // learn its reservation and holder; other drivers learn only that the slot is taken.
  function showBooked(spotId, startTime, { mine = false, reservationId = null, holder = null }) {
    updateSlot(spotId, startTime, { state: mine ? 'mine' : 'booked', reservationId, holder, checkedInAt: null });
  }

  // An arrival, from this tab, another of the holder's, or the attendant's desk.
  function showCheckedIn(spotId, startTime, checkedInAt) {
    updateSlot(spotId, startTime, { checkedInAt });
  }

  // A release seen on the grid. A closed cell stays closed: a closure releases the
  // bookings under it after announcing itself, and its refetch may already show it.
  function showReleased(spotId, startTime, endTime) {
    const slot = findSlot(spotId, startTime);
    if (slot && slot.state !== 'closed') {
      Object.assign(slot, { state: stateAfterRelease(endTime), reservationId: null, holder: null, checkedInAt: null });
    }
  }

  // The socket has been down too long for the grid to count as live.
  function pauseLiveUpdates() {
    state.paused = true;
  }

  // Called once the socket is back and the snapshot has been read again.
  function resumeLiveUpdates() {
    state.paused = false;
  }

  // Fetches the driver's history as CSV (the request needs the bearer token, so a plain
  // link cannot do it) and hands it to the browser as a download.
  async function downloadHistory() {
    if (state.downloading) {
      return;
    }
    state.downloading = true;
    try {
      const { blob, filename } = await exportHistory();
      saveFile(blob, filename);
    } catch (error) {
      showError(error);
    } finally {
      state.downloading = false;
    }
  }

  // Reads the lot's rules (after every reconnect; a rules.changed event carries them too).
  async function loadRules() {
    try {
      showRules(await api.getRules());
    } catch (error) {
      showError(error);
    }
  }

  function showRules({ max_upcoming_per_driver, booking_horizon_days, no_show_grace_minutes }) {
    state.rules = { max_upcoming_per_driver, booking_horizon_days, no_show_grace_minutes };
  }

  // The socket stays down for good, so the grid may go stale: shown instead of "reconnecting".
  function showTooManyTabs() {
    state.tooManyTabs = true;
    state.paused = true;
  }

  function showNotice(text) {
    state.notice = text;
  }

  function dismissNotice() {
    state.notice = null;
  }

  return {
    state,
    loadCalendar,
    selectDate,
    refresh,
    displayedState,
    isQuiet,
    activate,
    bookAny,
    isBookingAny,
    keepBooking,
    confirmRelease,
    showBooked,
    showCheckedIn,
    showReleased,
    quietAfterDialog,
    pauseLiveUpdates,
    resumeLiveUpdates,
    downloadHistory,
    loadRules,
    showRules,
    showNotice,
    showTooManyTabs,
    dismissNotice,
  };
}

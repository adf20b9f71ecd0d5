// "My bookings": the driver's upcoming bookings and weekly series, kept live by their own
// events, saved for offline use, with release (confirmed), check-in and "Repeat weekly…".
import { reactive } from 'vue';
import { forgetMyBookings, loadMyBookings, saveMyBookings } from './offline.js';

const SLOT_STARTS = ['08:00', '12:00', '16:00'];
const REFRESH_AFTER_EVENTS_MS = 150;

// The slot index (0-2) and the lot date of a reservation: its times are written in the lot's zone.
export function slotOf(reservation) {
  return { index: SLOT_STARTS.indexOf(reservation.start_time.slice(11, 16)), date: reservation.start_time.slice(0, 10) };
}

// A series repeating a booking starts the day after it: the booking itself is already held.
export function repeatStart(reservation) {
  const { index, date } = slotOf(reservation);
  const next = new Date(`${date}T12:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return { index, date, from: next.toISOString().slice(0, 10) };
}

export function createMyBookings({ api, store, currentUser, arrivals, onChange = () => {} }) {
  const state = reactive({
    reservations: [], // GET /reservations?upcoming=true
    series: [], // GET /reservations/series, running ones only
    loaded: false,
    offline: null, // {savedAt} while showing the saved list because the server cannot be reached
    notes: [], // why a booking left the list, when someone else released it
    busy: new Set(), // reservation or series ids with a request in flight
    releasing: null, // the reservation the driver is asked to confirm releasing
    repeating: null, // {reservation, outcomes: null | [...], sending} for "Repeat weekly…"
  });
  let latest = 0;

  // A 401 has ended the session already (api.js); anything else is said in the list.
  function fail(error) {
    if (error.status !== 401) {
      state.notes.unshift({ id: Date.now(), text: error.message });
    }
  }

  async function refresh() {
    const load = ++latest;
    try {
      const [upcoming, series] = await Promise.all([api.listUpcoming(), api.listSeries()]);
      if (load !== latest) {
        return;
      }
      state.reservations = upcoming.reservations;
      state.series = series.series.filter((item) => item.stopped_at === null);
      state.offline = null;
      state.loaded = true;
      saveMyBookings(currentUser.id, state.reservations, state.series).catch(() => {});
    } catch (error) {
      if (load !== latest) {
        return;
      }
      if (error.status === 0) {
        await showSaved();
      } else {
        fail(error);
      }
    }
  }

  // No network: the last list this driver saw, marked with when it was read.
  async function showSaved() {
    const saved = await loadMyBookings(currentUser.id).catch(() => null);
    if (saved) {
      state.reservations = saved.reservations;
      state.series = saved.series;
      state.loaded = true;
    }
    state.offline = { savedAt: saved ? saved.savedAt : null };
  }

  // A series books many dates at once, each with its own event: one read for a burst.
  let soon = null;
  function refreshSoon() {
    if (soon === null) {
      soon = setTimeout(() => {
        soon = null;
        refresh();
      }, REFRESH_AFTER_EVENTS_MS);
    }
  }

  // One of this driver's own events (from this tab or another): the list is read again.
  // Released by the attendant: the row goes, and a note says why.
  function applyEvent(event) {
    if (event.mine !== true || !event.type.startsWith('reservation.')) {
      return;
    }
    if (event.type === 'reservation.released' && event.reason === 'admin') {
      const row = state.reservations.find((reservation) => reservation.id === event.reservation_id);
      if (row) {
        state.notes.unshift({ id: event.reservation_id, text: `The attendant released Spot ${event.spot_number}: ${event.release_reason}` });
      }
    }
    refreshSoon();
  }

  function askRelease(reservation) {
    if (!state.offline && !state.busy.has(reservation.id)) {
      state.releasing = reservation;
    }
  }

  // The same questions the grid's ReleaseDialog asks, through this object.
  const releaseQuestion = {
    state: reactive({
      get releasing() {
        const reservation = state.releasing;
        return reservation && { spot: { spot_number: reservation.spot_number }, slot: { label: label(reservation), start_time: reservation.start_time } };
      },
      get timezone() {
        return store.state.timezone ?? store.state.calendar?.timezone;
      },
    }),
    keepBooking() {
      state.releasing = null;
    },
    async confirmRelease() {
      const reservation = state.releasing;
      state.releasing = null;
      await withBusy(reservation.id, async () => {
        await api.completeReservation(reservation.id);
        onChange();
      });
    },
  };

  async function withBusy(id, request) {
    state.busy.add(id);
    try {
      await request();
    } catch (error) {
      fail(error);
    } finally {
      state.busy.delete(id);
      refresh();
    }
  }

  function checkIn(reservation) {
    if (!state.offline && !state.busy.has(reservation.id)) {
      return withBusy(reservation.id, () => api.checkIn(reservation.id));
    }
  }

  function canCheckIn(reservation) {
    return reservation.checked_in_at === null && arrivals.isOpen(reservation);
  }

  function stopSeries(series) {
    if (!state.offline && !state.busy.has(`series-${series.id}`)) {
      return withBusy(`series-${series.id}`, async () => {
        await api.stopSeries(series.id);
        onChange();
      });
    }
  }

  function openRepeat(reservation) {
    if (!state.offline) {
      state.repeating = { reservation, outcomes: null, sending: false, error: null };
    }
  }

  // From a booked cell of the grid: the same dialog, for that booking.
  function openRepeatOf(reservationId) {
    const reservation = state.reservations.find((candidate) => candidate.id === reservationId);
    if (reservation) {
      openRepeat(reservation);
    }
  }

  function closeRepeat() {
    state.repeating = null;
  }

  // {weekdays, until, fallback}: the reservation's spot and slot, from its date.
  async function repeat({ weekdays, until, fallback }) {
    const asked = state.repeating;
    if (!asked || asked.sending) {
      return;
    }
    const { index, from } = repeatStart(asked.reservation);
    asked.sending = true;
    asked.error = null;
    try {
      const answer = await api.createSeries({ weekdays, slot: index, from, until, spot_id: asked.reservation.spot_id, fallback });
      asked.outcomes = answer.occurrences;
      onChange();
    } catch (error) {
      asked.error = error.message;
    } finally {
      asked.sending = false;
      refresh();
    }
  }

  function dismissNote(note) {
    state.notes = state.notes.filter((candidate) => candidate !== note);
  }

  function stop() {
    clearTimeout(soon);
  }

  return {
    state,
    refresh,
    stop,
    applyEvent,
    askRelease,
    releaseQuestion,
    checkIn,
    canCheckIn,
    stopSeries,
    openRepeat,
    openRepeatOf,
    closeRepeat,
    repeat,
    dismissNote,
    forget: forgetMyBookings,
  };
}

function label(reservation) {
  return `${reservation.start_time.slice(11, 16)}–${reservation.end_time.slice(11, 16)}`;
}

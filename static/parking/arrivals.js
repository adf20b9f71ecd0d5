// Arrivals: whether a booking's check-in window is open, and the driver's "I've arrived".
// The window is the server's rule (from GET /lot's limits.check_in_opens_minutes_before
// before the slot starts until it ends). The page offers check-in only while it is open,
// and a refusal shows the server's message.
import { reactive } from 'vue';

// Windows open and close on the minute: a tick this often shows or hides the button in time.
const TICK_MS = 15_000;

export function createArrivals({ api, store }) {
  const state = reactive({
    now: Date.now(), // the clock the windows are read against, ticking every TICK_MS
    sending: new Set(), // reservation ids with a check-in in flight
  });
  const ticker = setInterval(() => {
    state.now = Date.now();
  }, TICK_MS);

  // The instant, in ms, from which the slot's booking may be checked in. The grid is read
  // after the lot's calendar, so a slot shown has its window known.
  function opensAt(slot) {
    const minutes = store.state.calendar?.limits.check_in_opens_minutes_before ?? 0;
    return Date.parse(slot.start_time) - minutes * 60_000;
  }

  function isOpen(slot) {
    return opensAt(slot) <= state.now && state.now < Date.parse(slot.end_time);
  }

  // The driver's own booking. A check-in in flight ignores further taps: one gesture, one intent.
  async function checkIn(spot, slot) {
    const { reservationId } = slot;
    if (reservationId === null || state.sending.has(reservationId)) {
      return;
    }
    state.sending.add(reservationId);
    try {
      const reservation = await api.checkIn(reservationId);
      store.showCheckedIn(spot.id, slot.start_time, reservation.checked_in_at);
    } catch (error) {
      store.showNotice(error.message); // e.g. the window has closed, or the booking was released
      store.refresh();
    } finally {
      state.sending.delete(reservationId);
    }
  }

  function stop() {
    clearInterval(ticker);
  }

  return { state, opensAt, isOpen, checkIn, stop };
}

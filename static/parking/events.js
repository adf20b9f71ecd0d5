// What each live event does to the grid, through the store's named actions.
import { formatWindow } from './format.js';

// Whether [start, end) overlaps any of these slots; instants compare as numbers, not strings.
function overlaps(start, end, slots) {
  const [from, to] = [Date.parse(start), Date.parse(end)];
  return slots.some((slot) => Date.parse(slot.start_time) < to && Date.parse(slot.end_time) > from);
}

// onChange() is called when occupancy may have changed: the chart refreshes on it.
export function createEventHandler({ store, onChange }) {
  const { state } = store;

  function booking(event) {
    const window = formatWindow(event.start_time, event.end_time, state.timezone ?? state.calendar?.timezone);
    return `Spot ${event.spot_number} (${window})`;
  }

  // Someone else released one of this driver's bookings: the attendant, by hand or by
  // closing its spot, or the sweeper, since nobody checked in.
  function tellReleased(event) {
    if (event.reason === 'admin') {
      store.showNotice(`The attendant released your booking of ${booking(event)}: ${event.release_reason}`);
    } else if (event.reason === 'no_show') {
      const grace = state.rules?.no_show_grace_minutes;
      const late = grace ? `within its ${grace}-minute grace period` : 'in time';
      store.showNotice(`Your booking of ${booking(event)} was released: nobody checked in ${late}.`);
    }
  }

  // Events for a date that is not shown match no slot. A closure or a spot changes many
  // cells (and closure events name no reservation), so those refetch the shown day,
  // unless the closure lies outside it.
  return function applyEvent(event) {
    if (event.type === 'reservation.booked') {
      // Only the holder's own sockets (mine) and the attendant's learn the reservation, and
      // only the attendant's the holder.
      store.showBooked(event.spot_id, event.start_time, {
        mine: event.mine === true,
        reservationId: event.reservation_id ?? null,
        holder: event.holder ?? null,
      });
      onChange();
    } else if (event.type === 'reservation.released') {
      store.showReleased(event.spot_id, event.start_time, event.end_time);
      if (event.mine === true) {
        tellReleased(event);
      }
      onChange();
    } else if (event.type === 'reservation.checked_in') {
      // Only the holder's own sockets and the attendant's are told of an arrival.
      store.showCheckedIn(event.spot_id, event.start_time, event.checked_in_at);
    } else if (event.type === 'closure.created' || event.type === 'closure.deleted') {
      if (overlaps(event.start_time, event.end_time, state.slots)) {
        store.refresh();
      }
    } else if (event.type === 'spot.created' || event.type === 'spot.updated') {
      store.refresh();
      onChange(); // the share of spots occupied has a new denominator
    }
  };
}

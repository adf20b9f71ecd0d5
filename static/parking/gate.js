// Gate mode: the attendant types a plate and acts on each holder's card with one tap:
// check in, release with a reason, or book a spot in the slot now. Each card says what
// its last action did. The answers are the server's; nothing here decides a rule.
import { reactive } from 'vue';
import { formatClock } from './format.js';

const WALK_IN_NAME = 'Walk-in'; // the gate asks for no name: the plate identifies the car

// The booking "Book a … here" sends: the slot now (or, between slots, the next one)
// with no spot, so the server picks any free spot as it books, as for a driver's
// "any spot"; a regular one, or an accessible one when only those are left.
export function gateBooking(lookup) {
  const free = lookup.free_now?.spots.length ? lookup.free_now : lookup.free_next;
  if (!free || !free.spots.length) {
    return null;
  }
  const spotType = free.spots.some((spot) => spot.type === 'regular') ? 'regular' : 'handicap';
  return { spotType, startTime: free.slot.start_time, endTime: free.slot.end_time };
}

// A card's identity across lookups: a driver by id, a walk-in by name and plate.
export function holderKey(holder) {
  return holder.kind === 'driver' ? `driver:${holder.user_id}` : `walk_in:${holder.guest_name}:${holder.licence_plate}`;
}

export function createGate({ api, timezone, onChange = () => {} }) {
  const state = reactive({
    plate: '', // the plate the cards are for, as typed
    lookup: null, // GET /admin/plates/{plate}'s answer, or null
    searching: false,
    error: null, // why the lookup failed
    cards: {}, // holderKey -> {busy, message, error, releasing}; 'new' is the unknown plate's card
  });

  function card(key) {
    state.cards[key] ??= { busy: false, message: null, error: null, releasing: false };
    return state.cards[key];
  }

  // A newer lookup wins: a slow answer for an older plate is dropped.
  let latest = 0;
  async function lookUp(plate) {
    const typed = plate.trim();
    if (!typed) {
      return;
    }
    const id = ++latest;
    state.searching = true;
    state.error = null;
    try {
      const lookup = await api.lookUpPlate(typed);
      if (id === latest) {
        if (typed !== state.plate) {
          state.cards = {};
        }
        Object.assign(state, { plate: typed, lookup });
      }
    } catch (error) {
      if (id === latest) {
        state.error = error.message;
      }
    } finally {
      if (id === latest) {
        state.searching = false;
      }
    }
  }

  // Runs one card's action: a card with a request in flight ignores another tap.
  async function act(key, action) {
    const entry = card(key);
    if (entry.busy) {
      return;
    }
    entry.busy = true;
    entry.error = null;
    try {
      entry.message = await action();
      entry.releasing = false;
      onChange();
    } catch (error) {
      entry.error = error.message;
    } finally {
      entry.busy = false;
    }
  }

  function checkIn(holder) {
    return act(holderKey(holder), async () => {
      const reservation = await api.checkInAnyone(holder.current.reservation_id);
      holder.current.checked_in_at = reservation.checked_in_at;
      holder.check_in_open = false;
      return `Checked in at ${formatClock(reservation.checked_in_at, timezone())}, Spot ${reservation.spot_number}.`;
    });
  }

  function askToRelease(holder) {
    card(holderKey(holder)).releasing = true;
  }

  function keepBooking(holder) {
    card(holderKey(holder)).releasing = false;
  }

  function release(holder, reason) {
    return act(holderKey(holder), async () => {
      const reservation = await api.releaseWithReason(holder.current.reservation_id, reason);
      holder.current = null;
      holder.check_in_open = false;
      return `Released Spot ${reservation.spot_number}: ${reason}`;
    });
  }

  // For a driver's card: their booking, with this car. For a walk-in's or the unknown
  // plate's card: a walk-in with the plate typed.
  function bookHere(holder) {
    const key = holder ? holderKey(holder) : 'new';
    return act(key, async () => {
      const slot = gateBooking(state.lookup);
      if (slot === null) {
        throw new Error('No spot is free in the slot now or the next one.');
      }
      const forWhom =
        holder?.kind === 'driver'
          ? { userId: holder.user_id, vehicleId: holder.vehicle.id }
          : { guest: { name: holder?.guest_name ?? WALK_IN_NAME, licence_plate: holder?.licence_plate ?? state.plate } };
      const reservation = await api.bookFor({ ...slot, ...forWhom });
      const booked = {
        reservation_id: reservation.id,
        spot_id: reservation.spot_id,
        spot_number: reservation.spot_number,
        floor_number: reservation.floor_number,
        slot: { start_time: reservation.start_time, end_time: reservation.end_time },
        checked_in_at: null,
      };
      const clock = `${formatClock(reservation.start_time, timezone())}–${formatClock(reservation.end_time, timezone())}`;
      const message = `Booked Spot ${reservation.spot_number} (floor ${reservation.floor_number}), ${clock}.`;
      if (holder) {
        Object.assign(holder, { current: booked, check_in_open: true });
      } else {
        // The next lookup shows the walk-in's own card: it keeps the confirmation.
        card(holderKey({ kind: 'walk_in', ...reservation.holder })).message = message;
      }
      return message;
    });
  }

  // Another desk or the sweeper changed something the cards show: read them again.
  function applyEvent(event) {
    if (state.lookup && /^(reservation|closure|spot)\./.test(event.type)) {
      lookUp(state.plate);
    }
  }

  return { state, card, lookUp, checkIn, askToRelease, keepBooking, release, bookHere, applyEvent };
}

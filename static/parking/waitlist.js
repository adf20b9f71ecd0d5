// The waitlist on the grid: a driver joins the line of a full slot, sees their place move
// live, and is told when the database hands them a freed spot; the attendant sees who waits.
import { reactive } from 'vue';
import { formatWindow } from './format.js';

const ORDINAL_SUFFIXES = { one: 'st', two: 'nd', few: 'rd', other: 'th' };
const ordinals = new Intl.PluralRules('en-GB', { type: 'ordinal' });

// 1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"
export function ordinal(n) {
  return `${n}${ORDINAL_SUFFIXES[ordinals.select(n)]}`;
}

const sameInstant = (a, b) => Date.parse(a) === Date.parse(b);

// admin switches to the attendant's view (who waits, by name).
export function createWaitlist({ api, store, admin = false }) {
  const state = reactive({
    entries: [], // the driver's own, GET /waitlist
    lines: null, // the attendant's: the shown day's waiting entries with names, or null until asked
    busy: new Set(), // start_time of each slot with a join or leave in flight
  });
  let latestLoad = 0;

  // The API client has already handled a 401.
  function failed(error) {
    store.showNotice(error.message);
  }

  // An entry that was waiting and is now assigned: the database booked a freed spot for
  // this driver, and the grid already shows it as theirs. Say so, naming the spot.
  async function tellAssigned(entry) {
    try {
      const reservation = await api.getReservation(entry.reservation_id);
      const window = formatWindow(entry.start_time, entry.end_time, store.state.timezone);
      store.showNotice(`A spot came free: Spot ${reservation.spot_number} (${window}) is yours. You were first in line.`);
    } catch (error) {
      failed(error);
    }
  }

  async function load() {
    if (admin) {
      return state.lines === null ? undefined : loadLines();
    }
    const loadId = ++latestLoad;
    try {
      const { entries } = await api.listWaitlist();
      if (loadId !== latestLoad) {
        return undefined;
      }
      const wasWaiting = new Set(state.entries.filter((e) => e.status === 'waiting').map((e) => e.id));
      state.entries = entries;
      entries.filter((e) => e.status === 'assigned' && wasWaiting.has(e.id)).forEach(tellAssigned);
    } catch (error) {
      failed(error);
    }
    return undefined;
  }

  async function loadLines() {
    try {
      state.lines = (await api.getWaitlistLines(store.state.date)).entries;
    } catch (error) {
      failed(error);
    }
  }

  function hideLines() {
    state.lines = null;
  }

  // The driver's place in line for this column of the grid, if they are waiting for it.
  function entryFor(column) {
    return state.entries.find((e) => e.status === 'waiting' && sameInstant(e.start_time, column.start_time));
  }

  // A slot is full for this driver when no regular spot is free in it and they hold none
  // of it; a slot that has ended, or one with only closed spots, is not worth waiting for.
  function isFull(column) {
    const cells = store.state.spots.map((spot) => ({
      spot,
      slot: spot.slots.find((slot) => sameInstant(slot.start_time, column.start_time)),
    }));
    const states = cells.filter(({ slot }) => slot).map(({ spot, slot }) => [spot, store.displayedState(spot, slot)]);
    const regular = states.filter(([spot]) => spot.type === 'regular').map(([, shown]) => shown);
    return (
      regular.includes('booked') &&
      !regular.includes('available') &&
      !states.some(([, shown]) => shown === 'mine' || shown === 'past')
    );
  }

  async function withBusy(column, work) {
    if (state.busy.has(column.start_time)) {
      return; // one tap, one request
    }
    state.busy.add(column.start_time);
    try {
      await work();
    } finally {
      state.busy.delete(column.start_time);
    }
  }

  function join(column) {
    return withBusy(column, async () => {
      try {
        await api.joinWaitlist({ startTime: column.start_time, endTime: column.end_time });
      } catch (error) {
        failed(error);
        if (error.code === 'slot_available') {
          store.refresh(); // a spot came free meanwhile: the grid shows it
        }
      }
      await load();
    });
  }

  function leave(column) {
    const entry = entryFor(column);
    return withBusy(column, async () => {
      try {
        await api.leaveWaitlist(entry.id);
      } catch (error) {
        failed(error);
      }
      await load();
    });
  }

  function placeText(entry, column) {
    return `You're ${ordinal(entry.position)} in line for ${column.label}.`;
  }

  // The attendant's: who waits for this column, in order.
  function waitingFor(column) {
    return (state.lines ?? []).filter((e) => sameInstant(e.start_time, column.start_time));
  }

  // A line moved (someone joined, left or was assigned): re-read the driver's places.
  function applyEvent(event) {
    if (event.type === 'waitlist.changed') {
      load();
    }
  }

  return { state, load, loadLines, hideLines, entryFor, isFull, join, leave, placeText, waitingFor, applyEvent };
}

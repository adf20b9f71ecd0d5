// The attendant's desk: named actions for booking for others, checking anyone in,
// releasing with a reason, closing and reopening spots, adding spots and setting the
// lot's rules. The grid itself, and the rules as read, stay in the grid's store.
//
// Writes throw the API's error (the API client has handled a 401), so the form that asked
// can show the server's message where the attendant is looking.
import { reactive } from 'vue';
import { formatWindow } from './format.js';

const RECENT_ACTIONS = 8; // how many records "Recent actions" shows

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

// onChange() is called when occupancy may have changed: the chart refreshes on it.
export function createDesk({ api, store, onChange = () => {} }) {
  const state = reactive({
    menu: null, // the cell menu: {spot, slot, intent: 'book' | 'release', reservationId, holder}, or null
    drivers: [], // whom a booking can be for: GET /admin/users, drivers only
    closures: [], // current and coming closures, by start
    closuresFailed: false, // the latest list could not be read
    closing: null, // a closure awaiting confirmation: {spot, startTime, endTime, reason, window}
    actions: [], // "Recent actions": the newest audit records, newest first
    actionsFailed: false, // the latest list could not be read
    lobbyUrl: null, // the lobby screen's link made in this page, or null
    lobbyBusy: false,
    lobbyError: null,
    failedDeliveries: null, // webhook calls that failed for good, in all; null until read
  });

  const timezone = () => store.state.timezone;

  async function loadDrivers() {
    try {
      const { users } = await api.listUsers();
      state.drivers = users.filter((user) => user.role === 'driver');
    } catch {
      // The menu says so: it offers no driver until the list arrives.
    }
  }

  async function loadClosures() {
    try {
      state.closures = (await api.listClosures()).closures;
      state.closuresFailed = false;
    } catch {
      state.closuresFailed = true;
    }
  }

  // Integration: failed webhook deliveries, counted on the desk (GET /admin/webhooks lists them).
  async function loadFailedDeliveries() {
    try {
      state.failedDeliveries = (await api.listWebhooks()).failed_deliveries;
    } catch {
      state.failedDeliveries = null;
    }
  }

  // A tap on a cell opens its menu: book a free cell, or release a taken one. The intent
  // is fixed now, so a cell that changes under the menu cannot turn a booking into a release.
  function openCellMenu(spot, slot) {
    if (store.isQuiet(spot, slot) || !['available', 'booked'].includes(slot.state)) {
      return;
    }
    const intent = slot.state === 'available' ? 'book' : 'release';
    state.menu = { spot, slot, intent, reservationId: slot.reservationId, holder: slot.holder };
    if (intent === 'book') {
      loadDrivers(); // fresh counts of upcoming bookings
    }
  }

  function closeCellMenu() {
    state.menu = null;
    store.quietAfterDialog();
  }

  // After a refused write the grid may be stale (the slot was taken, or closed): reload it.
  async function writeToCell(request) {
    try {
      return await request();
    } catch (error) {
      store.refresh();
      throw error;
    }
  }

  // forWhom is {userId} for a driver or {guest: {name, licence_plate}} for a walk-in.
  async function bookFor(forWhom) {
    const { spot, slot } = state.menu;
    const reservation = await writeToCell(() =>
      api.bookFor({ spotId: spot.id, startTime: slot.start_time, endTime: slot.end_time, ...forWhom }),
    );
    store.showBooked(spot.id, slot.start_time, { reservationId: reservation.id, holder: reservation.holder });
    closeCellMenu();
    onChange();
  }

  // Releasing by id keeps the intent: if the booking is gone already, the server answers
  // with it as it is, and no other booking of the cell is touched.
  async function releaseWithReason(reason) {
    const { spot, slot, reservationId } = state.menu;
    await writeToCell(() => api.releaseWithReason(reservationId, reason));
    store.showReleased(spot.id, slot.start_time, slot.end_time);
    closeCellMenu();
    onChange();
  }

  // An arrival for anyone's booking, walk-ins included; the server holds the window.
  async function checkInHolder() {
    const { spot, slot, reservationId } = state.menu;
    const reservation = await writeToCell(() => api.checkInAnyone(reservationId));
    store.showCheckedIn(spot.id, slot.start_time, reservation.checked_in_at);
    closeCellMenu();
  }

  // Reads the exact instants of the chosen slots (the lot's offsets, DST included, are the
  // server's to say), then asks the attendant to confirm: a closure releases bookings.
  async function prepareClosure({ spot, fromDate, firstSlot, toDate, lastSlot, reason }) {
    if (!fromDate || !toDate) {
      throw new Error('Choose the first and the last day of the closure.');
    }
    const [first, last] = await Promise.all([api.getSpots(fromDate), api.getSpots(toDate)]);
    const startTime = first.slots[firstSlot].start_time;
    const endTime = last.slots[lastSlot].end_time;
    if (Date.parse(endTime) <= Date.parse(startTime)) {
      throw new Error('The last slot comes before the first: choose a later end.');
    }
    state.closing = { spot, startTime, endTime, reason, window: formatWindow(startTime, endTime, first.timezone) };
  }

  function cancelClosure() {
    state.closing = null;
    store.quietAfterDialog();
  }

  async function confirmClosure() {
    const { spot, startTime, endTime, reason, window } = state.closing;
    cancelClosure();
    const { released } = await api.createClosure({ spotId: spot.id, startTime, endTime, reason });
    store.showNotice(`Spot ${spot.spot_number} is closed ${window}; ${plural(released.length, 'booking')} released.`);
    loadClosures();
    store.refresh();
    onChange();
  }

  async function reopen(closure) {
    try {
      await api.deleteClosure(closure.id);
      const window = formatWindow(closure.start_time, closure.end_time, timezone());
      store.showNotice(`Spot ${closure.spot_number} is open again ${window}.`);
    } finally {
      loadClosures(); // reopened, or already gone: the list says which
      store.refresh();
    }
  }

  async function addSpot({ spotNumber, floorNumber, type }) {
    const spot = await api.addSpot({ spotNumber, floorNumber, type });
    store.showNotice(`Spot ${spot.spot_number} added on floor ${spot.floor_number}.`);
    store.refresh();
    onChange();
  }

  // changes: only the rules that change; every open page is told (rules.changed).
  async function changeRules(changes) {
    const rules = await api.changeRules(changes);
    store.showRules(rules);
    return rules;
  }

  // An audit record, from GET /admin/audit or an audit.recorded event, as the list shows it.
  function toAction(record) {
    return {
      id: record.id,
      recordedAt: record.recorded_at,
      actor: record.actor?.name ?? record.actor_name,
      action: record.action,
      targetType: record.target?.type ?? record.target_type,
      targetId: record.target?.id ?? record.target_id,
      reason: record.reason,
    };
  }

  async function loadActions() {
    try {
      state.actions = (await api.listAudit(RECENT_ACTIONS)).records.map(toAction);
      state.actionsFailed = false;
    } catch {
      state.actionsFailed = true;
    }
  }

  // Makes the lobby screen's link; any earlier one stops working. Shown here only.
  async function makeLobbyLink() {
    if (state.lobbyBusy) {
      return;
    }
    state.lobbyBusy = true;
    state.lobbyError = null;
    try {
      const { path } = await api.createLobbyLink();
      state.lobbyUrl = new URL(path, window.location.origin).href;
    } catch (error) {
      state.lobbyError = error.message;
    } finally {
      state.lobbyBusy = false;
    }
  }

  // Live events the desk follows beyond the grid: closures made or reopened elsewhere,
  // and every audit record, whoever's action it was.
  function applyEvent(event) {
    if (event.type === 'closure.created' || event.type === 'closure.deleted') {
      loadClosures();
    } else if (event.type === 'audit.recorded' && !state.actions.some((known) => known.id === event.id)) {
      state.actions = [toAction(event), ...state.actions].slice(0, RECENT_ACTIONS);
    }
  }

  // The server's limits on what the forms send (GET /lot), or null until the calendar is read.
  const limits = () => store.state.calendar?.limits ?? null;

  return {
    state,
    limits,
    loadClosures,
    loadActions,
    makeLobbyLink,
    loadFailedDeliveries,
    openCellMenu,
    closeCellMenu,
    bookFor,
    checkInHolder,
    releaseWithReason,
    prepareClosure,
    cancelClosure,
    confirmClosure,
    reopen,
    addSpot,
    changeRules,
    applyEvent,
  };
}

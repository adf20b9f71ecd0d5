// Instants as the lot's people read them: days and clock times in the lot's zone, never the browser's.

// "Tue 24 Nov"
export function formatDay(instant, timeZone) {
  return new Date(instant).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone });
}

// "08:00"
export function formatClock(instant, timeZone) {
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone };
  return new Date(instant).toLocaleTimeString('en-GB', options);
}

// "Tue 24 Nov, 08:00–20:00" within one day, else "Tue 24 Nov 08:00 – Wed 25 Nov 20:00".
export function formatWindow(start, end, timeZone) {
  const [startDay, endDay] = [formatDay(start, timeZone), formatDay(end, timeZone)];
  const [startClock, endClock] = [formatClock(start, timeZone), formatClock(end, timeZone)];
  return startDay === endDay
    ? `${startDay}, ${startClock}–${endClock}`
    : `${startDay} ${startClock} – ${endDay} ${endClock}`;
}

// "Tue 24 Nov, 08:00": when something happened.
export function formatWhen(instant, timeZone) {
  return `${formatDay(instant, timeZone)}, ${formatClock(instant, timeZone)}`;
}

// Who holds a cell, as the attendant's board names them: a driver, or a walk-in's plate.
export function holderName(holder) {
  return holder.user_id === undefined ? holder.licence_plate : holder.display_name;
}

// The same, in full: "Driver 1 (driver1@parking.com)" or "walk-in Grace Hopper, plate COBOL-59".
export function holderInFull(holder) {
  return holder.user_id === undefined
    ? `walk-in ${holder.guest_name}, plate ${holder.licence_plate}`
    : `${holder.display_name} (${holder.email})`;
}

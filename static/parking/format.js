// Instants as the lot's people read them: days and clock times in the lot's zone, never the browser's.

// "Tue 24 Nov"
export function formatDay(instant, timeZone) {
  return new Date(instant).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone });
}

// "08:00"
export function formatClock(instant, timeZone) {
  return new Date(instant).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone });
}

// "Tue 24 Nov, 08:00–20:00" within one day, else "Tue 24 Nov 08:00 – Wed 25 Nov 20:00".
export function formatWindow(start, end, timeZone) {
  const [startDay, endDay] = [formatDay(start, timeZone), formatDay(end, timeZone)];
  const [startClock, endClock] = [formatClock(start, timeZone), formatClock(end, timeZone)];
  return startDay === endDay
    ? `${startDay}, ${startClock}–${endClock}`
    : `${startDay} ${startClock} – ${endDay} ${endClock}`;
}

// Integration: 'Day after tomorrow' gave way to the weekday: "Day after tomorrow (24/11/2026)" is cut off in a 320 px select
const DAY_LABELS = ['Today', 'Tomorrow'];

export const DateHelper = {
  // Integration: firstDay is the lot's today (YYYY-MM-DD, from GET /lot), so the days follow the lot's calendar, not the browser's
  getNextDays(count = 3, firstDay) {
    const days = [];
    for (let offset = 0; offset < count; offset++) {
      // Integration: the day held at UTC midnight, where toISOString() and the UTC formatting below give that very day
      const date = new Date(`${firstDay}T00:00:00Z`);
      // Integration: calendar arithmetic in UTC, where no DST change moves a day
      date.setUTCDate(date.getUTCDate() + offset);
      // Integration: formatted in UTC, where the day is held
      const displayDate = date.toLocaleDateString('en-GB', { timeZone: 'UTC' });
      days.push({
        value: date.toISOString().split('T')[0],
        // Integration: later days are named by weekday (the dropdown spans the booking horizon) instead of repeating the date
        label: DAY_LABELS[offset] || date.toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' }),
        displayDate,
      });
    }
    return days;
  },
};

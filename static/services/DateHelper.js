const DAY_LABELS = ['Today', 'Tomorrow', 'Day after tomorrow'];

// Integration: the local calendar date as YYYY-MM-DD (toISOString gives the UTC date, a day off near midnight)
function toLocalDateValue(date) {
  const pad = (number) => String(number).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export const DateHelper = {
  getNextDays(count = 3) {
    const days = [];
    for (let offset = 0; offset < count; offset++) {
      const date = new Date();
      date.setDate(date.getDate() + offset);
      const displayDate = date.toLocaleDateString('en-GB');
      days.push({
        // Integration: local date, not the UTC one
        value: toLocalDateValue(date),
        label: DAY_LABELS[offset] || displayDate,
        displayDate,
      });
    }
    return days;
  },
};

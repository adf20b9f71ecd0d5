const DAY_LABELS = ['Today', 'Tomorrow', 'Day after tomorrow'];

export const DateHelper = {
  getNextDays(count = 3) {
    const days = [];
    for (let offset = 0; offset < count; offset++) {
      const date = new Date();
      date.setDate(date.getDate() + offset);
      const displayDate = date.toLocaleDateString('en-GB');
      days.push({
        value: date.toISOString().split('T')[0],
        label: DAY_LABELS[offset] || displayDate,
        displayDate,
      });
    }
    return days;
  },
};

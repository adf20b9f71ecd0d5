// Occupancy by hour of day as a plain SVG bar chart: 24 bars, peak hours marked, a text summary.

// The SVG is drawn at its container's measured width, one viewBox unit to a CSS pixel,
// so its text keeps the size set in parking.css on a phone as on a desktop.
const LEFT = 40; // room for the y-axis labels
const RIGHT = 4;
const TOP = 22; // room for the peak markers
const PLOT = 96; // height of a full-scale bar
const BASELINE = TOP + PLOT;
const HEIGHT = BASELINE + 26;
const DEFAULT_WIDTH = 640; // until the first measurement
const MIN_LABEL_SPACING = 44; // px between hour labels: "00:00" at 12 px is about 32 px wide
const PEAK_MARKER = '★';
// The y-axis tops out at the first of these at or above the busiest hour, so a quiet
// lot's bars are still visible; the axis label says which scale is in use.
const SCALE_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1];

let instances = 0;

function clock(hour) {
  return `${String(hour).padStart(2, '0')}:00`;
}

// 0.0067 -> "0.7%", 0.2 -> "20%": one decimal only where it matters.
function percent(ratio) {
  const value = ratio * 100;
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)}%`;
}

// [8, 9, 10, 17] -> "08:00–11:00 and 17:00–18:00"
function hourRanges(hours) {
  const ranges = [];
  for (const hour of [...hours].sort((a, b) => a - b)) {
    const last = ranges[ranges.length - 1];
    if (last && last.end === hour) {
      last.end = hour + 1;
    } else {
      ranges.push({ start: hour, end: hour + 1 });
    }
  }
  const texts = ranges.map((range) => `${clock(range.start)}–${clock(range.end)}`);
  return texts.length > 1 ? `${texts.slice(0, -1).join(', ')} and ${texts[texts.length - 1]}` : texts[0];
}

// "2026-10-23" -> a Date at UTC midnight, formatted in UTC: no local-zone day shift.
function calendarDate(value) {
  const [year, month, day] = value.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

function formatDay(date, withYear) {
  return date.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: withYear ? 'numeric' : undefined,
    timeZone: 'UTC',
  });
}

export const OccupancyChart = {
  props: {
    stats: { type: Object, required: true },
  },
  data() {
    instances += 1;
    return { idPrefix: `occupancy-chart-${instances}`, width: DEFAULT_WIDTH, peakMarker: PEAK_MARKER };
  },
  mounted() {
    this.resizeObserver = new ResizeObserver(([entry]) => {
      this.width = Math.max(LEFT + RIGHT + 24, Math.floor(entry.contentRect.width));
    });
    this.resizeObserver.observe(this.$el);
  },
  beforeUnmount() {
    this.resizeObserver.disconnect();
  },
  computed: {
    layout() {
      const column = (this.width - LEFT - RIGHT) / 24; // one hour
      return {
        LEFT,
        TOP,
        MIDDLE: TOP + PLOT / 2,
        BASELINE,
        WIDTH: this.width,
        HEIGHT,
        COLUMN: column,
        BAR: column * 0.7,
        MARKER_PX: Math.min(12, Math.max(8, column * 1.2)), // adjacent peaks' stars must not collide
        // every 3 hours where they fit, else every 6 (phones)
        LABEL_EVERY: column * 3 >= MIN_LABEL_SPACING ? 3 : 6,
      };
    },
    // The last GET /stats answer, or null before the first one.
    occupancy() {
      return this.stats.state.stats;
    },
    scaleMax() {
      const busiest = Math.max(0, ...this.occupancy.hours.map((hour) => hour.occupancy_ratio));
      return SCALE_STEPS.find((step) => step >= busiest) ?? 1;
    },
    bars() {
      const { COLUMN, BAR, LABEL_EVERY } = this.layout;
      const peaks = new Set(this.occupancy.peak_hours);
      return this.occupancy.hours.map((hour) => {
        const ratio = hour.occupancy_ratio;
        // A sliver for any occupancy at all, so "a little" never looks like "none".
        const height = ratio > 0 ? Math.max(1, (Math.min(ratio, this.scaleMax) / this.scaleMax) * PLOT) : 0;
        const x = LEFT + hour.hour * COLUMN + (COLUMN - BAR) / 2;
        return {
          hour: hour.hour,
          x,
          centre: x + BAR / 2,
          y: BASELINE - height,
          height,
          peak: peaks.has(hour.hour),
          label: hour.hour % LABEL_EVERY === 0 ? clock(hour.hour) : null,
          tooltip: `${clock(hour.hour)}–${clock(hour.hour + 1)}: ${percent(ratio)} of spots occupied on average`,
        };
      });
    },
    range() {
      const from = calendarDate(this.occupancy.from);
      const to = calendarDate(this.occupancy.to);
      const days = Math.round((to - from) / 86_400_000) + 1;
      const withYear = from.getUTCFullYear() !== to.getUTCFullYear();
      return `Last ${days} ${days === 1 ? 'day' : 'days'}: ${formatDay(from, withYear)} – ${formatDay(to, withYear)}`;
    },
    summary() {
      const peaks = this.occupancy.peak_hours;
      // It measures occupancy up to now: a booking for later does not count yet.
      if (!peaks.length) {
        return 'No spot has been occupied in this period so far: a booking counts once its slot has started.';
      }
      const ratio = this.occupancy.hours.find((hour) => hour.hour === peaks[0]).occupancy_ratio;
      return `Busiest: ${hourRanges(peaks)}, ${percent(ratio)} of spots on average.`;
    },
    // Null while no booked slot has started in the range: no rate rather than a made-up 0%.
    noShows() {
      const rate = this.occupancy.no_show_rate;
      return rate === null || rate === undefined ? null : `No-shows: ${percent(rate)} of the bookings whose slot started.`;
    },
  },
  methods: { percent },
  template: `
    <section class="occupancy" :aria-labelledby="idPrefix + '-heading'">
      <div class="occupancy-header">
        <h2 :id="idPrefix + '-heading'" class="occupancy-heading">Occupancy by hour of day</h2>
        <p v-if="occupancy" class="occupancy-range">{{ range }} · hours in {{ occupancy.timezone }}</p>
      </div>
      <template v-if="occupancy">
        <svg
          class="occupancy-chart"
          data-testid="occupancy-chart"
          role="img"
          :viewBox="'0 0 ' + layout.WIDTH + ' ' + layout.HEIGHT"
          :aria-labelledby="idPrefix + '-title ' + idPrefix + '-summary'"
        >
          <title :id="idPrefix + '-title'">Average share of spots occupied, by hour of day. {{ range }}.</title>
          <g class="occupancy-axis">
            <line class="occupancy-gridline" :x1="layout.LEFT" :x2="layout.WIDTH" :y1="layout.TOP" :y2="layout.TOP" />
            <line class="occupancy-baseline" :x1="layout.LEFT" :x2="layout.WIDTH" :y1="layout.BASELINE" :y2="layout.BASELINE" />
            <line class="occupancy-gridline" :x1="layout.LEFT" :x2="layout.WIDTH" :y1="layout.MIDDLE" :y2="layout.MIDDLE" />
            <text :x="layout.LEFT - 6" :y="layout.TOP + 4" text-anchor="end">{{ percent(scaleMax) }}</text>
            <text :x="layout.LEFT - 6" :y="layout.MIDDLE + 4" text-anchor="end">{{ percent(scaleMax / 2) }}</text>
            <text :x="layout.LEFT - 6" :y="layout.BASELINE + 4" text-anchor="end">0%</text>
          </g>
          <g v-for="bar in bars" :key="bar.hour">
            <rect
              class="occupancy-bar"
              :class="{ 'occupancy-bar-peak': bar.peak }"
              :x="bar.x"
              :y="bar.y"
              :width="layout.BAR"
              :height="bar.height"
              rx="2"
              :data-hour="bar.hour"
              :data-peak="String(bar.peak)"
            >
              <title>{{ bar.tooltip }}</title>
            </rect>
            <text
              v-if="bar.peak"
              class="occupancy-peak-marker"
              :style="{ fontSize: layout.MARKER_PX + 'px' }"
              :x="bar.centre"
              :y="bar.y - 5"
              text-anchor="middle"
            >{{ peakMarker }}</text>
            <text
              v-if="bar.label"
              class="occupancy-hour-label"
              :x="bar.centre"
              :y="layout.BASELINE + 19"
              text-anchor="middle"
            >{{ bar.label }}</text>
          </g>
        </svg>
        <div class="occupancy-footer">
          <p :id="idPrefix + '-summary'" class="occupancy-summary">{{ summary }}</p>
          <p v-if="occupancy.peak_hours.length" class="occupancy-legend">
            <span class="occupancy-legend-swatch" aria-hidden="true"></span>{{ peakMarker }} Peak hour
          </p>
        </div>
        <p v-if="noShows" class="occupancy-no-shows">{{ noShows }}</p>
      </template>
      <p v-if="stats.state.failed" class="occupancy-status">
        {{ occupancy ? 'Occupancy could not be updated; showing the last figures.' : 'Occupancy could not be loaded.' }}
      </p>
      <p v-else-if="!occupancy" class="occupancy-status">Loading occupancy…</p>
    </section>
  `,
};

// Occupancy statistics for the chart: loads GET /stats, refreshes it debounced, stops for good.
import { reactive } from 'vue';

// A burst of grid changes (a resync, several drivers booking) costs one request.
const REFRESH_DELAY_MS = 1000;

export function createStatsStore({ api }) {
  const state = reactive({
    stats: null, // the last GET /stats answer, or null before the first one
    failed: false, // the latest load failed; the last good answer, if any, stays shown
  });
  let latestLoad = 0;
  let refreshTimer = null;
  let stopped = false;

  async function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (stopped) {
      return;
    }
    const loadId = ++latestLoad; // only the newest answer may write, as in the grid's store
    try {
      const stats = await api.getStats();
      if (loadId === latestLoad && !stopped) {
        state.stats = stats;
        state.failed = false;
      }
    } catch {
      if (loadId === latestLoad && !stopped) {
        state.failed = true;
      }
    }
  }

  // Called on every grid change; the request goes out once the changes pause.
  function refreshSoon() {
    if (stopped) {
      return;
    }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_DELAY_MS);
  }

  function stop() {
    stopped = true;
    clearTimeout(refreshTimer);
    refreshTimer = null;
  }

  return { state, refresh, refreshSoon, stop };
}

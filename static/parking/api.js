// REST client for the parking API: JSON in and out, Bearer auth, throws ApiError on failure.
// A 401 is handled here, once: onUnauthorized() ends the session before the error is thrown.

const NETWORK_ERROR_MESSAGE = 'Could not reach the server. Please check your connection and try again.';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the request never got an HTTP answer
    this.code = code;
  }
}

const DEFAULT_EXPORT_FILENAME = 'smart-parking-reservations.csv';
const DEFAULT_ADMIN_EXPORT_FILENAME = 'smart-parking-all-reservations.csv';

// The file name in the server's Content-Disposition header (attachment; filename="..."), or null.
function filenameFromDisposition(header) {
  const quoted = /filename="([^"]*)"/i.exec(header ?? '');
  return quoted ? quoted[1] : null;
}

export function createApi({ getToken, onUnauthorized }) {
  // One controller for the island's lifetime: abort() drops every in-flight request on unmount.
  const controller = new AbortController();

  // Sends one request and returns the Response once its status is 2xx.
  async function send(method, path, body) {
    const headers = { Authorization: `Bearer ${getToken()}` };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
    } catch {
      throw new ApiError(0, 'network_error', NETWORK_ERROR_MESSAGE);
    }
    if (!response.ok) {
      if (response.status === 401) {
        onUnauthorized(); // the island is unmounted by now: the caller's handling shows nothing
      }
      // Error bodies are {"error": {"code", "message"}}; a proxy's HTML error page is not JSON.
      const data = await response.json().catch(() => null);
      const error = data?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `Request failed (HTTP ${response.status}).`);
    }
    return response;
  }

  async function request(method, path, body) {
    const response = await send(method, path, body);
    return response.json().catch(() => null);
  }

  // A file download: the body as a Blob and the name the server suggests for it.
  async function download(path, fallbackFilename) {
    const response = await send('GET', path);
    let blob;
    try {
      blob = await response.blob(); // the export is streamed: the connection can still fail here
    } catch {
      throw new ApiError(0, 'network_error', NETWORK_ERROR_MESSAGE);
    }
    const filename = filenameFromDisposition(response.headers.get('Content-Disposition')) || fallbackFilename;
    return { blob, filename };
  }

  return {
    // The lot's calendar: its time zone, today and last bookable day (dates in the lot's zone).
    getLot: () => request('GET', '/lot'),
    getSpots: (date) => request('GET', `/spots?date=${encodeURIComponent(date)}`),
    createReservation: ({ spotId, startTime, endTime }) =>
      request('POST', '/reservations', { spot_id: spotId, start_time: startTime, end_time: endTime }),
    completeReservation: (reservationId) => request('PUT', `/reservations/${reservationId}/complete`),
    // Commuting: the caller's bookings not yet ended (soonest first), any free spot, weekly series.
    listUpcoming: () => request('GET', '/reservations?upcoming=true'),
    bookAnySpot: ({ startTime, endTime }) => request('POST', '/reservations', { start_time: startTime, end_time: endTime }),
    createSeries: (body) => request('POST', '/reservations/series', body),
    listSeries: () => request('GET', '/reservations/series'),
    stopSeries: (seriesId) => request('DELETE', `/reservations/series/${seriesId}`),
    // "I've arrived": the server answers 409 check_in_closed, saying when, outside the window.
    checkIn: (reservationId) => request('PUT', `/reservations/${reservationId}/check-in`),
    // The lot's rules: {max_upcoming_per_driver (null: no limit), booking_horizon_days, no_show_grace_minutes (0: off)}.
    getRules: () => request('GET', '/rules'),
    // A new secret URL of the caller's calendar feed, {url, path, created_at}; the previous one stops working.
    createCalendarFeed: () => request('POST', '/me/calendar'),
    // A page of the caller's API tokens, {tokens, next}: `next` is the link to older ones, or null.
    listApiTokens: (page = '/me/tokens') => request('GET', page),
    revokeApiToken: (tokenId) => request('DELETE', `/me/tokens/${tokenId}`),
    // The caller's inbox, newest first: {notifications, unread_count}.
    listNotifications: () => request('GET', '/me/notifications'),
    // Marks read up to this id; answers {unread_count}.
    markNotificationsRead: (upTo) => request('POST', '/me/notifications/read', { up_to: upTo }),
    // Occupancy by hour of day over the server's default range (the lot's last 30 days).
    getStats: () => request('GET', '/stats'),
    exportHistory: () => download('/reservations/export.csv', DEFAULT_EXPORT_FILENAME),

    // The caller's places in line, {entries: [{id, start_time, end_time, position, status, reservation_id, ...}]}.
    listWaitlist: () => request('GET', '/waitlist'),
    // Waits for any regular spot of a full slot; 409 slot_available if one is free after all.
    joinWaitlist: ({ startTime, endTime }) => request('POST', '/waitlist', { start_time: startTime, end_time: endTime }),
    leaveWaitlist: (entryId) => request('DELETE', `/waitlist/${entryId}`),
    getReservation: (reservationId) => request('GET', `/reservations/${reservationId}`),

    // The attendant's console (role admin): the board says who holds each cell.
    getBoard: (date) => request('GET', `/admin/board?date=${encodeURIComponent(date)}`),
    listUsers: () => request('GET', '/admin/users'),
    // Who waits for each slot of a day, in order: {date, entries: [{start_time, position, user, ...}]}.
    getWaitlistLines: (date) => request('GET', `/admin/waitlist?date=${encodeURIComponent(date)}`),
    // For a driver (userId, and optionally vehicleId) or a walk-in (guest: {name, licence_plate}),
    // on spotId, or without it on any free spot of spotType, which the server picks.
    bookFor: ({ spotId, spotType, startTime, endTime, userId, vehicleId, guest }) =>
      request('POST', '/admin/reservations', {
        ...(spotId ? { spot_id: spotId } : { spot_type: spotType }),
        start_time: startTime,
        end_time: endTime,
        ...(guest ? { guest } : { user_id: userId, ...(vehicleId ? { vehicle_id: vehicleId } : {}) }),
      }),
    releaseWithReason: (reservationId, reason) =>
      request('PUT', `/admin/reservations/${reservationId}/release`, { reason }),
    checkInAnyone: (reservationId) => request('PUT', `/admin/reservations/${reservationId}/check-in`),
    // Only the rules sent change; the answer is all of them. A 422 names the field it refuses.
    changeRules: (changes) => request('PUT', '/admin/rules', changes),
    // Closures overlapping the server's default range: today to 30 days ahead.
    listClosures: () => request('GET', '/admin/closures'),
    createClosure: ({ spotId, startTime, endTime, reason }) =>
      request('POST', '/admin/closures', { spot_id: spotId, start_time: startTime, end_time: endTime, reason }),
    deleteClosure: (closureId) => request('DELETE', `/admin/closures/${closureId}`),
    addSpot: ({ spotNumber, floorNumber, type }) =>
      request('POST', '/admin/spots', { spot_number: spotNumber, floor_number: floorNumber, type }),
    // Webhook endpoints, and their failed deliveries in all (failed_deliveries).
    listWebhooks: () => request('GET', '/admin/webhooks'),
    // Everyone's reservations over the server's default range: the last 30 days.
    exportAll: () => download('/admin/reservations/export.csv', DEFAULT_ADMIN_EXPORT_FILENAME),
    // At the gate: every holder of the plate today, their booking now and next, the free spots.
    lookUpPlate: (plate) => request('GET', `/admin/plates/${encodeURIComponent(plate)}`),
    // The lobby screen's secret URL {url, path, created_at}; the previous one stops working.
    createLobbyLink: () => request('POST', '/admin/lobby'),
    // The newest audit records: {records: [{recorded_at, actor, action, target, reason, ...}]}.
    listAudit: (limit) => request('GET', `/admin/audit?limit=${limit}`),

    // The caller's vehicles, at most 3; plates are matched however they are spelled.
    listVehicles: () => request('GET', '/me/vehicles'),
    addVehicle: ({ licencePlate, label }) =>
      request('POST', '/me/vehicles', { licence_plate: licencePlate, label: label || null }),
    removeVehicle: (vehicleId) => request('DELETE', `/me/vehicles/${vehicleId}`),

    abort: () => controller.abort(),
  };
}

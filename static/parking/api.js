// REST client for the parking API: JSON in and out, Bearer auth, throws ApiError on failure.

const NETWORK_ERROR_MESSAGE = 'Could not reach the server. Please check your connection and try again.';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the request never got an HTTP answer
    this.code = code;
  }
}

export function createApi({ getToken }) {
  // One controller for the island's lifetime: abort() drops every in-flight request on unmount.
  const controller = new AbortController();

  async function request(method, path, body) {
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
    // Error bodies are {"error": {"code", "message"}}; a proxy's HTML error page is not JSON.
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `Request failed (HTTP ${response.status}).`);
    }
    return data;
  }

  return {
    getSpots: (date) => request('GET', `/spots?date=${encodeURIComponent(date)}`),
    createReservation: ({ spotId, startTime, endTime }) =>
      request('POST', '/reservations', { spot_id: spotId, start_time: startTime, end_time: endTime }),
    completeReservation: (reservationId) => request('PUT', `/reservations/${reservationId}/complete`),
    abort: () => controller.abort(),
  };
}

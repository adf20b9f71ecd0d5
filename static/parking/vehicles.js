// A driver's own vehicles: the plates the attendant's gate knows them by.
import { reactive } from 'vue';

export function createVehicles({ api }) {
  const state = reactive({
    vehicles: [], // GET /me/vehicles: [{id, licence_plate, label}]
    busy: false, // a request is in flight
    error: null, // the server's message, or null
  });

  async function run(request) {
    if (state.busy) {
      return false;
    }
    state.busy = true;
    state.error = null;
    try {
      await request();
      return true;
    } catch (error) {
      state.error = error.message; // a 401 has ended the session already (api.js)
      return false;
    } finally {
      state.busy = false;
    }
  }

  const load = () => run(async () => {
    state.vehicles = (await api.listVehicles()).vehicles;
  });

  const add = ({ licencePlate, label }) => run(async () => {
    const vehicle = await api.addVehicle({ licencePlate, label });
    state.vehicles = [...state.vehicles, vehicle];
  });

  const remove = (vehicle) => run(async () => {
    await api.removeVehicle(vehicle.id);
    state.vehicles = state.vehicles.filter((candidate) => candidate.id !== vehicle.id);
  });

  return { state, load, add, remove };
}

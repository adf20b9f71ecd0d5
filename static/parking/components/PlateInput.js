// A licence plate field, for the walk-in form and the driver's vehicles: shown in
// capitals as the server stores it, with no autocorrect, up to the server's length.
// Its `id` and other attributes fall through to the <input>.
export const PlateInput = {
  props: {
    modelValue: { type: String, required: true },
    maxlength: { type: Number, default: null }, // GET /lot's max_licence_plate
  },
  emits: ['update:modelValue'],
  template: `
    <input
      :value="modelValue"
      class="licence-plate"
      type="text"
      :maxlength="maxlength"
      autocomplete="off"
      autocapitalize="characters"
      spellcheck="false"
      required
      @input="$emit('update:modelValue', $event.target.value)"
    />
  `,
};

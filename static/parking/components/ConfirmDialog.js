// A modal question before a destructive act; its body is the default slot.
import { armedModal } from './armedModal.js';

export const ConfirmDialog = {
  mixins: [armedModal],
  props: {
    title: { type: String, required: true },
    confirmLabel: { type: String, required: true },
    cancelLabel: { type: String, default: 'Cancel' },
  },
  emits: ['confirm', 'cancel'],
  methods: {
    confirm(event) {
      // detail 2+ is the rest of a multi-click; 0 is a key press, always deliberate.
      if (this.armed && event.detail <= 1) {
        this.$emit('confirm');
      }
    },
  },
  // Escape (the dialog's cancel event) is the safe answer, like the focused default button.
  template: `
    <dialog
      ref="dialog"
      class="release-dialog"
      aria-labelledby="confirm-dialog-title"
      @cancel.prevent="$emit('cancel')"
    >
      <h2 id="confirm-dialog-title" class="release-dialog-title">{{ title }}</h2>
      <slot />
      <div class="release-dialog-actions">
        <button type="button" class="btn btn-secondary" autofocus @click="$emit('cancel')">{{ cancelLabel }}</button>
        <button type="button" class="btn btn-danger" :disabled="!armed" @click="confirm">{{ confirmLabel }}</button>
      </div>
    </dialog>
  `,
};

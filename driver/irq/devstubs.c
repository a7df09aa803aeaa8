// SPDX-License-Identifier: GPL-2.0
/*
 * TEMPORARY: stand-ins for the PIC, IOAPIC and PIT models (i8259.c,
 * ioapic.c, i8254.c), which are being written separately; creating them
 * fails, so only the split irqchip (local APICs alone) can be made.
 */
#include "yakvm.h"

int yakvm_pic_create(struct yakvm_vm *vm) { return -ENODEV; }
void yakvm_pic_destroy(struct yakvm_vm *vm) { }
int yakvm_pic_set_irq(struct yakvm_pic *pic, int irq, enum yakvm_irq_source source, int level) { return -1; }
bool yakvm_pic_has_interrupt(struct yakvm_pic *pic) { return false; }
int yakvm_pic_ack(struct yakvm_pic *pic) { return -1; }
void yakvm_pic_get_state(struct yakvm_pic *pic, int chip, struct kvm_pic_state *state) { }
void yakvm_pic_set_state(struct yakvm_pic *pic, int chip, const struct kvm_pic_state *state) { }
void yakvm_pic_clear_source(struct yakvm_pic *pic, enum yakvm_irq_source source) { }
int yakvm_ioapic_create(struct yakvm_vm *vm) { return -ENODEV; }
void yakvm_ioapic_destroy(struct yakvm_vm *vm) { }
int yakvm_ioapic_set_irq(struct yakvm_ioapic *ioapic, int pin, enum yakvm_irq_source source, int level) { return -1; }
void yakvm_ioapic_eoi(struct yakvm_vm *vm, int vector) { }
void yakvm_ioapic_get_state(struct yakvm_ioapic *ioapic, struct kvm_ioapic_state *state) { }
void yakvm_ioapic_set_state(struct yakvm_ioapic *ioapic, const struct kvm_ioapic_state *state) { }
void yakvm_ioapic_clear_source(struct yakvm_ioapic *ioapic, enum yakvm_irq_source source) { }
int yakvm_pit_create(struct yakvm_vm *vm, u32 flags) { return -ENODEV; }
void yakvm_pit_destroy(struct yakvm_vm *vm) { }
int yakvm_pit_get_state(struct yakvm_pit *pit, struct kvm_pit_state2 *state) { return -ENXIO; }
int yakvm_pit_set_state(struct yakvm_pit *pit, const struct kvm_pit_state2 *state) { return -ENXIO; }
int yakvm_pit_reinject(struct yakvm_pit *pit, const struct kvm_reinject_control *control) { return -ENXIO; }
void yakvm_pit_irq_acked(struct yakvm_pit *pit) { }

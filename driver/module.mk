# yakvm.ko, built out of tree with Kbuild against the Debian headers.
# `make C=1` runs sparse on the files being rebuilt, `make sparse` on all of them.

MODULE     := $(BUILD)/yakvm.ko
DRIVER_SRC := $(shell find driver -name "*.[chS]" ! -name "*.mod.c") driver/Kbuild
KBUILD_ARGS = -C $(KDIR) M=$(CURDIR)/driver $(if $(C),C=$(C))

module: $(MODULE)

$(MODULE): $(DRIVER_SRC)
	@test -d $(KDIR) || { echo "module: kernel headers $(KDIR) missing; run 'make env'" >&2; exit 1; }
	@mkdir -p $(BUILD)
	$(MAKE) $(KBUILD_ARGS) modules
	cp driver/yakvm.ko $@

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver C=2 modules

module-clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR)/driver clean >/dev/null; fi

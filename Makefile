# Vodkit: the two commands are `make run` and `make test`.
# Both install what is missing first (packaging/install-deps.sh, apt-get on Debian/Ubuntu).

CARGO ?= cargo
SAMPLE_DIR := target/sample

.PHONY: run demo test deps test-deps build lint unit bench package screenshot fuzz help

help:
	@echo "make run    install deps, build, and start Vodkit"
	@echo "make test   install test deps, lint, and run every test"
	@echo "make bench  measure Vodkit against the ffmpeg tools on generated media"
	@echo "make package  build a Debian package (target/debian/)"
	@echo "make screenshot  regrab the README's screenshot from a real window under Xvfb"
	@echo "make fuzz   fuzz the MP4 index, the preset parser and serve's request parsing (FUZZ_SECS each)"

deps:
	@packaging/install-deps.sh

test-deps:
	@packaging/install-deps.sh --test
	@test -d tests/players/node_modules/playwright-core || \
		npm ci --prefix tests/players --no-audit --no-fund --loglevel=error
	@command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --version 3.8.0 --locked
	@test -x target/pyenv/bin/moto_server && target/pyenv/bin/python -c "import botocore, moto, awscrt" 2>/dev/null || \
		{ python3 -m venv target/pyenv && \
		  target/pyenv/bin/pip install --quiet --disable-pip-version-check 'botocore==1.44.8' 'moto[server]==5.2.5' 'awscrt==0.38.1'; }

build: deps
	$(CARGO) build --release

# Opens the desktop app. Without a display (a server, an SSH session) it says so and shows the
# command line on a generated sample instead.
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then ./target/release/vodkit; else \
		./target/release/vodkit; \
		echo; echo "Showing the command line instead, on a generated sample:"; \
		$(MAKE) --no-print-directory demo; fi

demo: build test-deps
	@mkdir -p $(SAMPLE_DIR)
	@test -s $(SAMPLE_DIR)/sample.mp4 || ffmpeg -hide_banner -loglevel error -y \
		-f lavfi -i testsrc2=s=1920x1080:r=30000/1001:d=10 \
		-f lavfi -i sine=f=440:sample_rate=48000:d=10 \
		-c:v libx264 -preset veryfast -c:a aac $(SAMPLE_DIR)/sample.mp4
	./target/release/vodkit probe $(SAMPLE_DIR)/sample.mp4
	./target/release/vodkit plan $(SAMPLE_DIR)/sample.mp4 --preset web-ladder

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

unit: test-deps
	$(CARGO) test --locked

test: lint unit

# A Debian package (target/debian/vodkit_<version>_<arch>.deb) with the binary, the desktop entry,
# the icons, the man page and shell completions.
package: build
	packaging/build-deb.sh release

# The README's screenshot: the window test grabs a settled window under Xvfb into target/;
# this copies it into the repository (tests never write there themselves).
screenshot: test-deps
	$(CARGO) test --locked --test window _for_the_readme
	cp "$${CARGO_TARGET_DIR:-target}/tmp/screenshots/main.png" assets/screenshots/main.png
	cp "$${CARGO_TARGET_DIR:-target}/tmp/screenshots/quality.png" assets/screenshots/quality.png
	for v in files queue library presets settings; do \
		cp "$${CARGO_TARGET_DIR:-target}/tmp/screenshots/view-$$v.png" assets/screenshots/view-$$v.png; done

bench: test-deps
	$(CARGO) bench --locked --bench vodkit_bench

# Fuzzing (not part of `make test` or CI): each target runs FUZZ_SECS seconds with libFuzzer and
# AddressSanitizer on nightly Rust, from seeds made here (a tiny MP4, the built-in presets, a few
# requests). Everything goes under target/fuzz/; a crasher is left in target/fuzz/artifacts/ and
# `make fuzz` fails. Keep each crasher as a unit test next to the code it broke.
FUZZ_SECS ?= 120
FUZZ_DIR := target/fuzz
fuzz: deps
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	@mkdir -p $(FUZZ_DIR)/seeds/mp4_index $(FUZZ_DIR)/seeds/preset $(FUZZ_DIR)/seeds/http_request
	@test -s $(FUZZ_DIR)/seeds/mp4_index/tiny.mp4 || ffmpeg -hide_banner -loglevel error -y \
		-f lavfi -i testsrc2=s=64x36:r=25:d=0.2 -f lavfi -i sine=d=0.2 \
		-c:v libx264 -bf 2 -c:a aac -shortest $(FUZZ_DIR)/seeds/mp4_index/tiny.mp4
	@cp presets/*.toml $(FUZZ_DIR)/seeds/preset/
	@printf '/title/index.m3u8bytes=0-99' > $(FUZZ_DIR)/seeds/http_request/a
	@printf '/t/%%2e%%2e/x?max_height=720&order=descbytes=-500' > $(FUZZ_DIR)/seeds/http_request/b
	@for t in mp4_index preset http_request; do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t && \
		cargo +nightly fuzz run --fuzz-dir tests/fuzz --target-dir $(FUZZ_DIR)/build $$t \
			$(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECS) -rss_limit_mb=2048 -malloc_limit_mb=1024 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ || exit 1; \
	done

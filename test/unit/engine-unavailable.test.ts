// ENGINE_UNAVAILABLE (issue 14): where no prebuilt engine exists, the message names the platform and the command that
// builds one, so training says exactly what to do instead of only what broke.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineUnavailableMessage, PREBUILT_ENGINE_PLATFORM } from "../../sidecar/src/engine/native";

const path = "/ext/sidecar/native/build/Release/lora_studio_engine.node";

test("a platform without a prebuilt engine is named, with the build-from-source command", () => {
    const message = engineUnavailableMessage({ path, platform: "darwin", arch: "arm64" });
    assert.match(message, /^The native engine is not built for darwin-arm64 \(\/ext\/sidecar\/native\/build\/Release\/lora_studio_engine\.node is missing\)\./);
    assert.match(message, new RegExp(`prebuilt engine for ${PREBUILT_ENGINE_PLATFORM} only`));
    assert.match(message, /CMake/);
    assert.match(message, /`node scripts\/build-native\.mjs`/);
    assert.match(message, /LORA_STUDIO_ENGINE_PATH=<checkout>\/sidecar\/native\/build\/Release\/lora_studio_engine\.node/);
});

test("on the packaged platform it says only what is missing and how to build it", () => {
    const message = engineUnavailableMessage({ path, platform: "linux", arch: "x64" });
    assert.match(message, /^The native engine is not built for linux-x64 /);
    assert.doesNotMatch(message, /prebuilt engine for/);
    assert.match(message, /`node scripts\/build-native\.mjs`/);
});

test("a load failure keeps the loader's reason and the platform", () => {
    const message = engineUnavailableMessage({ path, platform: "linux", arch: "arm64" }, "wrong ELF class: ELFCLASS64");
    assert.match(message, /^Cannot load the native engine \/ext\/.* on linux-arm64: wrong ELF class: ELFCLASS64\./);
    assert.match(message, /`node scripts\/build-native\.mjs`/);
});

// One async job of the addon: `work` runs on a libuv worker thread (off the Node main thread), `done` turns
// its result into a JS value on the main thread, and `finally` always runs on the main thread afterwards.
// Engine errors reject the promise with an Error carrying their `code`.
#pragma once

#include "addon_error.h"

#include <napi.h>

#include <functional>
#include <new>
#include <string>

class AddonWorker : public Napi::AsyncWorker {
public:
    using work_fn    = std::function<void()>;
    using done_fn    = std::function<Napi::Value(Napi::Env)>;
    using finally_fn = std::function<void()>;

    AddonWorker(Napi::Env env, const char * name, work_fn work, done_fn done, finally_fn finally = nullptr)
        : Napi::AsyncWorker(env, name), deferred(Napi::Promise::Deferred::New(env)),
          work(std::move(work)), done(std::move(done)), finally(std::move(finally)) {}

    Napi::Promise promise() const { return deferred.Promise(); }

    // Queues the worker and returns its promise.
    static Napi::Promise start(Napi::Env env, const char * name, work_fn work, done_fn done, finally_fn finally = nullptr) {
        auto * worker = new AddonWorker(env, name, std::move(work), std::move(done), std::move(finally));
        Napi::Promise promise = worker->promise();
        worker->Queue();
        return promise;
    }

protected:
    void Execute() override {
        try {
            work();
        } catch (const engine_error & e) {
            code = e.code;
            SetError(e.what());
        } catch (const std::bad_alloc & e) {
            code = ENGINE_ERR_OUT_OF_MEMORY; // a host allocation of the engine itself (adapter copies, batches)
            SetError(std::string("out of host memory: ") + e.what());
        } catch (const std::exception & e) {
            code = ENGINE_ERR_INTERNAL;
            SetError(std::string("internal engine error: ") + e.what());
        }
    }

    void OnOK() override {
        // `done` reads the job's result before `finally` may release what it points to
        Napi::Value value;
        try {
            value = done ? done(Env()) : Env().Undefined();
        } catch (const Napi::Error & e) {
            if (finally) {
                finally();
            }
            deferred.Reject(e.Value());
            return;
        }
        if (finally) {
            finally();
        }
        deferred.Resolve(value);
    }

    void OnError(const Napi::Error & e) override {
        if (finally) {
            finally();
        }
        deferred.Reject(engine_error_to_js(Env(), code.c_str(), e.Message()).Value());
    }

private:
    Napi::Promise::Deferred deferred;
    work_fn     work;
    done_fn     done;
    finally_fn  finally;
    std::string code = ENGINE_ERR_INTERNAL;
};

// A rejected promise, for argument errors found before any work is queued.
inline Napi::Promise addon_reject(Napi::Env env, const char * code, const std::string & message) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(engine_error_to_js(env, code, message).Value());
    return deferred.Promise();
}

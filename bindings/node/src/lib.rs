//! `ringlog.node`: the native half of the Node binding of ringlog.
//!
//! The pino-shaped API lives in JS (`index.js`, `lib/`): level checks,
//! argument handling, the walk over the logged object and the trace
//! context (AsyncLocalStorage). This addon binds the Rust core directly:
//!
//! - [`channel`]: the per-thread record buffer and `emit()`, the one native
//!   call per record, a raw Node-API function;
//! - [`wire`]: the layout of a record in that buffer and its decoder;
//! - [`loggers`]: the per-thread table of logger slots (name, bound
//!   fields, cached core logger);
//! - [`runtime`]: the process-wide runtime every JS thread shares;
//! - [`exit`]: the env cleanup hook that writes everything out.
//!
//! Every entry point runs inside [`guard::guard`], so no panic reaches
//! Node.

mod channel;
mod exit;
mod guard;
mod loggers;
mod runtime;
mod wire;

use guard::guard;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::time::Duration;

/// The version of the ringlog core built into the addon.
#[napi]
pub const VERSION: &str = ringlog::VERSION;

fn core_error(e: &ringlog::Error) -> napi::Error {
    napi::Error::from_reason(format!("ringlog: {e}"))
}

/// Sets the addon up for this JS environment: installs the record
/// channel's `emit()` and `setBuffer(arrayBuffer)` on `target`, and
/// registers the env cleanup hook, which writes out every record when the
/// environment goes away (flushes for a worker, shuts the runtime down for
/// the main thread). Call once per copy of the JS package per environment.
#[napi]
pub fn init(env: Env, target: Object, is_main_thread: bool) -> Result<()> {
    guard("init", || {
        // SAFETY: env and target are the live values of this call.
        let ch = unsafe { channel::install(env.raw(), target.raw()) }?;
        exit::register(&env, ch, is_main_thread)
    })
}

/// Starts the runtime from JSON text, or from `RINGLOG_CONFIG` and the
/// defaults when `config` is null. A running runtime is shut down first
/// (everything it was given is written), except when the new
/// configuration does not parse.
#[napi]
pub fn configure(config: Option<String>) -> Result<()> {
    guard("configure", || {
        runtime::configure(config.as_deref()).map_err(|e| core_error(&e))
    })
}

fn timeout_of(ms: Option<f64>) -> Result<Duration> {
    match ms {
        None => Ok(runtime::shutdown_timeout()),
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Duration::from_secs_f64(t / 1000.0)),
        Some(_) => Err(napi::Error::new(
            Status::InvalidArg,
            "ringlog: timeout must be a finite number of ms >= 0",
        )),
    }
}

/// Blocks until every record logged before the call is written, up to
/// `timeoutMs` (default: the configuration's `shutdown_timeout_ms`).
#[napi]
pub fn flush_sync(timeout_ms: Option<f64>) -> Result<()> {
    guard("flushSync", || {
        let t = timeout_of(timeout_ms)?;
        runtime::flush(t).map_err(|e| core_error(&e))
    })
}

/// The flush that runs on the libuv thread pool.
#[derive(Debug)]
pub struct FlushTask {
    timeout: Duration,
}

impl Task for FlushTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let t = self.timeout;
        guard("flush", || runtime::flush(t).map_err(|e| core_error(&e)))
    }

    fn resolve(&mut self, _env: Env, _out: ()) -> Result<()> {
        Ok(())
    }
}

/// Resolves once every record logged before the call is written, up to
/// `timeoutMs`; the wait happens off the JS thread.
#[napi]
pub fn flush(timeout_ms: Option<f64>) -> Result<AsyncTask<FlushTask>> {
    guard("flush", || {
        Ok(AsyncTask::new(FlushTask {
            timeout: timeout_of(timeout_ms)?,
        }))
    })
}

/// Shuts the runtime down, writing everything logged (bounded by the
/// configuration's `shutdown_timeout_ms`). Later records are refused and
/// counted until `configure` starts a new runtime.
#[napi]
pub fn shutdown() -> Result<()> {
    guard("shutdown", || {
        runtime::shutdown().map_err(|e| core_error(&e))
    })
}

/// The runtime's counters (all zero before it starts), with the core's
/// snake_case names.
#[napi]
pub fn stats(env: &Env) -> Result<Object<'_>> {
    guard("stats", || {
        let s = ringlog::global::get()
            .map(|rt| rt.stats())
            .unwrap_or_default();
        let mut o = Object::new(env)?;
        for (k, v) in s.pairs() {
            o.set_named_property(k, v as f64)?;
        }
        Ok(o)
    })
}

/// Changes levels at run time from JSON text: `level`, `levels` (the JS
/// loggers' defaults) and `sinks.<name>.level`. The JS side then re-reads
/// every logger's default level.
#[napi]
pub fn reconfigure(config: String) -> Result<()> {
    guard("reconfigure", || {
        runtime::reconfigure(&config).map_err(|e| core_error(&e))
    })
}

/// What a recovery pass found (`recover`).
#[napi(object)]
#[derive(Debug)]
pub struct RecoverReport {
    /// Dead instances whose records were written out.
    pub instances: f64,
    /// Instances left alone because their process is alive.
    pub live: f64,
    /// Records recovered.
    pub records: f64,
    /// Drop reports recovered.
    pub drop_reports: f64,
    /// Damaged frames (or runs of damaged bytes) skipped.
    pub bad_frames: f64,
    /// Files skipped whole (bad header, unreadable metadata).
    pub bad_files: f64,
    /// One line per problem found.
    pub problems: Vec<String>,
}

/// Writes out the records of dead instances (killed or crashed
/// processes) under `ringDir` (default: the runtime's own ring directory)
/// through the configured sinks; blocks until they are written (up to
/// `shutdown_timeout_ms`).
#[napi]
pub fn recover(ring_dir: Option<String>) -> Result<RecoverReport> {
    guard("recover", || {
        if ring_dir.as_deref() == Some("") {
            return Err(napi::Error::new(
                Status::InvalidArg,
                "ringlog: ringDir must not be empty",
            ));
        }
        let dir = ring_dir.as_deref().map(std::path::Path::new);
        let r = runtime::recover(dir).map_err(|e| core_error(&e))?;
        Ok(RecoverReport {
            instances: r.instances as f64,
            live: r.live as f64,
            records: r.records as f64,
            drop_reports: r.drop_reports as f64,
            bad_frames: r.bad_frames as f64,
            bad_files: r.bad_files as f64,
            problems: r.problems,
        })
    })
}

/// The default level (an OpenTelemetry severity number, 25 for `off`) of
/// a logger called `name`, from the configuration.
#[napi]
pub fn level_for(name: String) -> Result<u32> {
    guard("levelFor", || {
        Ok(u32::from(runtime::level_for(&name).number()))
    })
}

/// Makes a logger slot and returns its id: a root logger when `parent` is
/// 0, else a child of `parent` with `count` more bound fields encoded in
/// `bound`. Returns 0 when `parent` is unknown.
#[napi]
pub fn new_logger(name: String, parent: u32, bound: &[u8], count: u32) -> Result<u32> {
    guard("newLogger", || {
        Ok(loggers::create(&name, parent, bound, count))
    })
}

/// Defines a call site of logger slot `id` from `def` (a site definition
/// in the wire format, [`wire`]) and returns the site's id; 0 when the
/// slot is unknown, the definition malformed, or the logger has all the
/// sites it may have ([`loggers::MAX_SITES`]). Its records then go through
/// `emit()` as site records.
#[napi]
pub fn define_site(id: u32, def: &[u8]) -> Result<u32> {
    guard("defineSite", || {
        let mut r = wire::Reader::new(def);
        let Ok(d) = r.site_def() else { return Ok(0) };
        if !r.at_end() {
            return Ok(0);
        }
        Ok(loggers::with(|t| t.get(id).map_or(0, |s| s.define_site(&d))).unwrap_or(0))
    })
}

/// Counts a record the JS side refused before sending it (larger than
/// the core could take), in `rejected_invalid`.
#[napi]
pub fn refuse_record(id: u32) -> Result<()> {
    guard("refuseRecord", || {
        loggers::with(|t| {
            if let Some(s) = t.get(id) {
                if let Ok(l) = s.resolve() {
                    l.count_rejected();
                }
            }
        });
        Ok(())
    })
}

/// Frees a logger slot.
#[napi]
pub fn release_logger(id: u32) -> Result<()> {
    guard("releaseLogger", || {
        loggers::release(id);
        Ok(())
    })
}

/// Parses a W3C `traceparent` value into 25 bytes (trace id, span id,
/// flags); null when it is malformed.
#[napi]
pub fn parse_traceparent(traceparent: String) -> Result<Option<Uint8Array>> {
    guard("parseTraceparent", || {
        Ok(
            ringlog::TraceContext::parse_traceparent(traceparent.trim().as_bytes())
                .ok()
                .map(|c| {
                    let mut v = Vec::with_capacity(25);
                    v.extend_from_slice(&c.trace_id);
                    v.extend_from_slice(&c.span_id);
                    v.push(c.flags);
                    Uint8Array::new(v)
                }),
        )
    })
}

/// Why the runtime could not start, if it could not.
#[napi]
pub fn last_error() -> Result<Option<String>> {
    guard("lastError", || Ok(runtime::last_error()))
}

/// For the tests of the panic boundary: panics inside a guarded entry
/// point, which must become a JS exception.
#[napi(js_name = "_panicForTest")]
pub fn panic_for_test() -> Result<()> {
    guard("_panicForTest", || panic!("a deliberate panic"))
}

//! The runtime: one instance directory, its rings, its loggers and its
//! flusher thread.

use crate::config::{self, Config, EncoderKind, FullPolicy, LevelChanges, SinkKind};
use crate::encode::{console::ConsoleEncoder, json::JsonEncoder, logfmt::LogfmtEncoder, Encoder};
use crate::error::Error;
use crate::flusher::{Flusher, SinkSlot};
use crate::instance::{default_ring_dir, Instance};
use crate::level::Level;
use crate::logger::{LevelCell, Logger, LoggerInner};
use crate::registry::Registry;
use crate::ring::Ring;
use crate::sink::{file::FileSink, stream::StreamSink, Sink};
use crate::stats::{Counters, Stats};
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use crossbeam_utils::CachePadded;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Runtime states.
pub(crate) const RUNNING: u8 = 0;
pub(crate) const CLOSING: u8 = 1;
pub(crate) const CLOSED: u8 = 2;

/// Bumped in every child process right after `fork()`. A runtime records
/// the value it started under; in a child the values differ, and the
/// inherited runtime (whose rings and flusher belong to the parent) refuses
/// to log, flush or shut down. The child can start a fresh runtime.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: std::sync::Once = std::sync::Once::new();

extern "C" fn before_fork() {
    crate::global::before_fork();
}

extern "C" fn after_fork_in_parent() {
    crate::global::after_fork();
}

extern "C" fn after_fork_in_child() {
    // Ordering: Relaxed: the child has one thread at this point.
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
    // The parent's instance locks must not stay held by the child, or the
    // parent's instance would look alive after the parent died.
    crate::instance::close_inherited_locks();
    crate::global::after_fork();
}

/// The flusher thread's name.
pub(crate) const FLUSHER_THREAD: &str = "ringlog-flusher";

/// The current fork generation (see [`FORK_GENERATION`]).
pub(crate) fn fork_generation() -> u64 {
    // Ordering: Relaxed, as in `Shared::forked`.
    FORK_GENERATION.load(Ordering::Relaxed)
}

fn register_atfork() {
    ATFORK.call_once(|| {
        // The prepare handler takes ringlog's fork-safe locks; the parent
        // and child handlers release them, and the child's also bumps an
        // atomic and closes descriptors (both async-signal-safe).
        // SAFETY: registers plain extern "C" functions, as described.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_in_parent),
                Some(after_fork_in_child),
            )
        };
    });
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// State shared by the runtime handle, loggers, producers and the flusher.
#[derive(Debug)]
pub(crate) struct Shared {
    /// RUNNING, CLOSING or CLOSED.
    pub state: AtomicU8,
    /// The fork generation this runtime started under.
    pub fork_generation: u64,
    /// Set while the flusher sleeps its long idle interval; a producer that
    /// sees it wakes the flusher after committing.
    pub idle: AtomicBool,
    /// Ring capacity in bytes.
    pub capacity: u64,
    /// Largest frame a record may take (half the capacity).
    pub max_frame: u64,
    /// Bytes in use past which a producer wakes the flusher.
    pub high_water: u64,
    /// Full-ring policy.
    pub policy: FullPolicy,
    /// How long `block` waits.
    pub block_timeout: Duration,
    /// How often the flusher wakes while records are arriving.
    pub interval: Duration,
    /// How often it wakes once it has found nothing for a while.
    pub idle_interval: Duration,
    /// The instance directory (and its lock), until a clean shutdown.
    pub instance: Mutex<Option<Instance>>,
    /// The instance directory's path.
    pub instance_dir: PathBuf,
    next_ring: AtomicU32,
    /// Every live ring; producers add, the flusher removes.
    pub rings: Mutex<Vec<Arc<Ring>>>,
    /// Bumped whenever `rings` grows, so the flusher locks only then.
    pub rings_gen: AtomicU64,
    /// Logger definitions.
    pub registry: Registry,
    /// Root loggers by name.
    roots: Mutex<HashMap<Box<[u8]>, Logger>>,
    /// Level cells by logger name.
    cells: Mutex<HashMap<Box<[u8]>, Arc<LevelCell>>>,
    /// Global and per-prefix levels.
    levels: Mutex<(Level, BTreeMap<String, Level>)>,
    /// Each sink's name and level, shared with the flusher.
    pub sink_levels: Vec<(String, Arc<AtomicU8>)>,
    /// The flusher thread, for waking it.
    pub flusher: OnceLock<std::thread::Thread>,
    /// The fatal-signal handler's ring, made on its first attach and kept
    /// for later ones (see `crash.rs`).
    pub crash_ring: OnceLock<Arc<Ring>>,
    /// Set when someone has woken the flusher and it has not looked yet.
    /// On its own cache line: the flusher clears it every cycle, and it must
    /// not share a line with the fields producers read on every record.
    pub wake_pending: CachePadded<AtomicBool>,
    /// Flush requests made (own cache line, as `wake_pending`).
    pub flush_req: CachePadded<AtomicU64>,
    /// Flush requests completed (guarded for the condvar).
    pub flush_done: Mutex<u64>,
    /// Signalled when `flush_done` grows or the flusher exits.
    pub flush_cv: Condvar,
    /// Set when shutdown asks the flusher to finish.
    pub stop: AtomicBool,
    /// Set by the flusher when it has exited.
    pub exited: AtomicBool,
    /// Counters.
    pub counters: Counters,
    /// Each sink's own counters, in configuration order.
    pub sink_counters: Vec<Arc<crate::stats::SinkCounters>>,
    /// Recover dead instances when the flusher starts.
    pub recover_on_start: bool,
    /// Recovery requests (`Runtime::recover`): id and ring directory.
    pub recover_reqs: Mutex<Vec<(u64, PathBuf)>>,
    /// Their reports, by id, until the caller takes them.
    pub recover_done: Mutex<HashMap<u64, crate::recover::Report>>,
    next_recover: AtomicU64,
}

impl Shared {
    /// The ring directory this runtime's instance lives in.
    pub(crate) fn ring_dir(&self) -> &std::path::Path {
        self.instance_dir
            .parent()
            .unwrap_or(std::path::Path::new("/"))
    }

    /// True in a child process that inherited this runtime through `fork()`.
    #[inline(always)]
    pub(crate) fn forked(&self) -> bool {
        // Ordering: Relaxed: written once in the child before any thread
        // of the child exists.
        FORK_GENERATION.load(Ordering::Relaxed) != self.fork_generation
    }

    /// Wakes the flusher, at most one system call per flusher cycle.
    #[inline]
    pub(crate) fn wake(&self) {
        // Ordering: Relaxed check first to avoid an RMW on the hot line;
        // AcqRel swap so only one waker pays for the unpark.
        if !self.wake_pending.load(Ordering::Relaxed)
            && !self.wake_pending.swap(true, Ordering::AcqRel)
        {
            if let Some(t) = self.flusher.get() {
                t.unpark();
            }
        }
    }

    /// Creates a ring for the calling thread and registers it.
    pub(crate) fn create_ring(&self) -> std::io::Result<Arc<Ring>> {
        // A thread that logs gets an alternate signal stack when the
        // fatal-signal handler is installed (see `crash.rs`).
        crate::crash::prepare_thread();
        // Ordering: Relaxed: ids only need to be unique.
        let id = self.next_ring.fetch_add(1, Ordering::Relaxed);
        let path = crate::instance::ring_path(&self.instance_dir, id);
        let ring = Arc::new(Ring::create(
            &path,
            self.capacity,
            id,
            crate::os::thread_id(),
        )?);
        lock(&self.rings).push(ring.clone());
        // Ordering: Release pairs with the flusher's Acquire load: it then
        // locks `rings` and finds this ring.
        self.rings_gen.fetch_add(1, Ordering::Release);
        Ok(ring)
    }

    /// Creates a ring of `capacity` bytes that no producer thread owns
    /// (the fatal-signal handler's, see `crash.rs`) and registers it. It
    /// is drained like the others and never reclaimed before shutdown.
    pub(crate) fn create_unowned_ring(&self, capacity: u64) -> std::io::Result<Arc<Ring>> {
        // Ordering: Relaxed: ids only need to be unique.
        let id = self.next_ring.fetch_add(1, Ordering::Relaxed);
        let path = crate::instance::ring_path(&self.instance_dir, id);
        let ring = Arc::new(Ring::create(&path, capacity, id, 0)?);
        lock(&self.rings).push(ring.clone());
        // Ordering: Release, as in `create_ring`.
        self.rings_gen.fetch_add(1, Ordering::Release);
        Ok(ring)
    }

    fn threshold(&self, name: &[u8]) -> Level {
        let (global, prefixes) = &*lock(&self.levels);
        let l = config::level_for(global, prefixes, name);
        // A record below every sink's level would be encoded for nobody.
        let sink_min = self
            .sink_levels
            .iter()
            .map(|(_, c)| c.load(Ordering::Relaxed))
            .min()
            .unwrap_or(Level::OFF.number());
        Level::from_number(l.number().max(sink_min)).unwrap_or(Level::OFF)
    }

    fn refresh_levels(&self) {
        let cells: Vec<_> = lock(&self.cells)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (name, cell) in cells {
            cell.set(self.threshold(&name));
        }
    }
}

/// A running ringlog runtime.
///
/// Cloning gives another handle to the same runtime.
#[derive(Clone, Debug)]
pub struct Runtime {
    shared: Arc<Shared>,
    join: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

/// Builds a [`Runtime`], optionally with sinks the configuration cannot
/// name (an in-memory sink for tests, a custom writer).
pub struct Builder {
    config: Config,
    extra: Vec<(String, Box<dyn Sink>, EncoderKind)>,
    replace: bool,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .finish()
    }
}

impl Builder {
    /// Drops the configured sinks; only those added with [`Builder::sink`]
    /// remain.
    pub fn replace_sinks(mut self) -> Self {
        self.replace = true;
        self
    }

    /// Adds a sink with the JSON encoder at level TRACE.
    pub fn sink(self, name: &str, sink: Box<dyn Sink>) -> Self {
        self.sink_with(name, sink, EncoderKind::Json)
    }

    /// Adds a sink with the given encoder (default options) at level TRACE.
    pub fn sink_with(mut self, name: &str, sink: Box<dyn Sink>, enc: EncoderKind) -> Self {
        self.extra.push((name.to_string(), sink, enc));
        self
    }

    /// Starts the runtime: creates the instance directory and the flusher.
    ///
    /// # Errors
    /// [`Error::Config`] for a bad configuration, [`Error::Io`] when the
    /// ring directory or a sink cannot be opened.
    pub fn start(self) -> Result<Runtime, Error> {
        Runtime::start_inner(self)
    }
}

fn make_encoder(
    kind: EncoderKind,
    s: &config::SinkConfig,
    tty: bool,
) -> Result<Box<dyn Encoder>, Error> {
    Ok(match kind {
        EncoderKind::Json => Box::new(JsonEncoder::new(s.json.clone())),
        EncoderKind::Logfmt => Box::new(LogfmtEncoder::new(s.logfmt.clone())),
        EncoderKind::Console => Box::new(
            ConsoleEncoder::new(s.console.clone(), tty)
                .map_err(|e| Error::Config(format!("console.{e}")))?,
        ),
    })
}

impl Runtime {
    /// Starts a runtime with `config`.
    ///
    /// # Errors
    /// As [`Builder::start`].
    pub fn start(config: Config) -> Result<Runtime, Error> {
        Self::builder(config).start()
    }

    /// A builder for a runtime with extra sinks.
    pub fn builder(config: Config) -> Builder {
        Builder {
            config,
            extra: Vec::new(),
            replace: false,
        }
    }

    fn start_inner(b: Builder) -> Result<Runtime, Error> {
        register_atfork();
        let cfg = b.config;
        cfg.validate()?;
        let mut slots = Vec::new();
        let mut sink_levels = Vec::new();
        if !b.replace {
            for (name, s) in &cfg.sinks {
                let sink: Box<dyn Sink> = match s.kind {
                    SinkKind::Stderr => Box::new(StreamSink::stderr()),
                    SinkKind::Stdout => Box::new(StreamSink::stdout()),
                    SinkKind::File => {
                        let p = s.path.as_ref().expect("validated");
                        Box::new(FileSink::open(p).map_err(|e| {
                            Error::Io(format!("sinks.{name}.path: cannot open {}", p.display()), e)
                        })?)
                    }
                };
                let enc = make_encoder(s.encoder, s, sink.is_terminal())
                    .map_err(|e| Error::Config(format!("sinks.{name}.{e}")))?;
                let level = Arc::new(AtomicU8::new(s.level.number()));
                sink_levels.push((name.clone(), level.clone()));
                slots.push(
                    SinkSlot::new(name.clone(), level, enc, sink, s.sync, s.sync_interval_ms)
                        .retry_buffer(s.retry_buffer_bytes),
                );
            }
        }
        for (name, sink, kind) in b.extra {
            let sc = config::SinkConfig::new(SinkKind::Stderr);
            let enc = make_encoder(kind, &sc, false)?;
            let level = Arc::new(AtomicU8::new(Level::TRACE.number()));
            sink_levels.push((name.clone(), level.clone()));
            slots.push(SinkSlot::new(
                name,
                level,
                enc,
                sink,
                config::SyncPolicy::None,
                1000,
            ));
        }
        if slots.is_empty() {
            return Err(Error::Config("sinks: at least one sink is required".into()));
        }
        let ring_dir = cfg.ring_dir.clone().unwrap_or_else(default_ring_dir);
        let instance = Instance::create(&ring_dir).map_err(|e| {
            Error::Io(
                format!(
                    "ring_dir: cannot create an instance in {}",
                    ring_dir.display()
                ),
                e,
            )
        })?;
        let meta = match crate::meta::MetaLog::create(&instance.dir) {
            Ok(m) => m,
            Err(e) => {
                let dir = instance.dir.clone();
                let _ = instance.remove();
                return Err(Error::Io(
                    format!("ring_dir: cannot create {}/meta", dir.display()),
                    e,
                ));
            }
        };
        let shared = Arc::new(Shared {
            state: AtomicU8::new(RUNNING),
            fork_generation: FORK_GENERATION.load(Ordering::Relaxed),
            idle: AtomicBool::new(false),
            capacity: cfg.ring_capacity,
            max_frame: cfg.ring_capacity / 2,
            high_water: cfg.ring_capacity / 2,
            policy: cfg.full_policy,
            block_timeout: Duration::from_millis(cfg.block_timeout_ms),
            interval: Duration::from_millis(cfg.flush_interval_ms),
            idle_interval: Duration::from_millis(cfg.idle_interval_ms.max(cfg.flush_interval_ms)),
            instance_dir: instance.dir.clone(),
            instance: Mutex::new(Some(instance)),
            next_ring: AtomicU32::new(0),
            rings: Mutex::new(Vec::new()),
            rings_gen: AtomicU64::new(0),
            registry: Registry::new(Some(meta)),
            roots: Mutex::new(HashMap::new()),
            cells: Mutex::new(HashMap::new()),
            levels: Mutex::new((cfg.level, cfg.levels.clone())),
            sink_levels,
            flusher: OnceLock::new(),
            crash_ring: OnceLock::new(),
            wake_pending: CachePadded::new(AtomicBool::new(false)),
            flush_req: CachePadded::new(AtomicU64::new(0)),
            flush_done: Mutex::new(0),
            flush_cv: Condvar::new(),
            stop: AtomicBool::new(false),
            exited: AtomicBool::new(false),
            counters: Counters::default(),
            sink_counters: slots.iter().map(|s| s.counters()).collect(),
            recover_on_start: cfg.recover_on_start,
            recover_reqs: Mutex::new(Vec::new()),
            recover_done: Mutex::new(HashMap::new()),
            next_recover: AtomicU64::new(0),
        });
        let flusher = Flusher::new(shared.clone(), slots);
        let handle = std::thread::Builder::new()
            .name(FLUSHER_THREAD.into())
            .spawn(move || flusher.run())
            .map_err(|e| {
                if let Some(inst) = lock(&shared.instance).take() {
                    let _ = inst.remove();
                }
                Error::Io("cannot start the flusher thread".into(), e)
            })?;
        let _ = shared.flusher.set(handle.thread().clone());
        let rt = Runtime {
            shared,
            join: Arc::new(Mutex::new(Some(handle))),
        };
        if cfg.crash_handler {
            if let Err(e) = crate::crash::install_for(&rt) {
                let _ = rt.shutdown(Duration::from_millis(cfg.shutdown_timeout_ms));
                return Err(e);
            }
        }
        Ok(rt)
    }

    /// The shared state and the flusher thread's `pthread_t` (while it
    /// runs), for the fatal-signal handler (`crash.rs`).
    pub(crate) fn crash_parts(&self) -> (&Arc<Shared>, Option<libc::pthread_t>) {
        use std::os::unix::thread::JoinHandleExt;
        let flusher = lock(&self.join).as_ref().map(|h| h.as_pthread_t());
        (&self.shared, flusher)
    }

    /// The root logger called `name` (created on first use, then shared).
    pub fn logger(&self, name: &str) -> Logger {
        self.logger_bytes(name.as_bytes())
    }

    /// [`Runtime::logger`] with a name given as bytes.
    pub fn logger_bytes(&self, name: &[u8]) -> Logger {
        let sh = &self.shared;
        if sh.forked() {
            // Inherited through fork(): a logger that refuses every record,
            // made without touching the parent's registry, metadata file or
            // locks (another thread may have held them at the fork).
            return Logger {
                inner: Arc::new(LoggerInner {
                    id: crate::registry::INTERNAL_LOGGER,
                    def: Arc::new(crate::registry::LoggerDef::root(name)),
                    level: Arc::new(LevelCell::new(Level::TRACE)),
                    rt: sh.clone(),
                    child: false,
                }),
            };
        }
        let mut roots = lock(&sh.roots);
        if let Some(l) = roots.get(name) {
            return l.clone();
        }
        let cell = lock(&sh.cells)
            .entry(name.into())
            .or_insert_with(|| Arc::new(LevelCell::new(sh.threshold(name))))
            .clone();
        let (id, def) = sh.registry.define(crate::registry::LoggerDef::root(name));
        let l = Logger {
            inner: Arc::new(LoggerInner {
                id,
                def,
                level: cell,
                rt: sh.clone(),
                child: false,
            }),
        };
        if sh.state.load(Ordering::Relaxed) == RUNNING {
            roots.insert(name.into(), l.clone());
        }
        l
    }

    /// Waits until every record logged before this call is written (and
    /// synced, for sinks with a sync policy) by every working sink. A sink
    /// that is failing holds its records in memory for a retry instead;
    /// `flush` does not wait for it (see `bytes_pending` in
    /// [`Runtime::stats`] and [`Runtime::sink_stats`]), and a failed sync
    /// is counted in `sync_errors`, not returned here.
    ///
    /// # Errors
    /// [`Error::Timeout`] when that takes longer than `timeout`;
    /// [`Error::Shutdown`] after shutdown.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let sh = &self.shared;
        if sh.exited.load(Ordering::Acquire) || sh.forked() {
            return Err(Error::Shutdown);
        }
        // Ordering: AcqRel: our earlier commits (Release stores of ring
        // tails) happen before the flusher's Acquire load of `flush_req`,
        // so the cycle that serves this ticket sees them.
        let ticket = sh.flush_req.fetch_add(1, Ordering::AcqRel) + 1;
        sh.wake_pending.store(false, Ordering::Relaxed);
        sh.wake();
        let deadline = Instant::now() + timeout;
        let mut done = lock(&sh.flush_done);
        while *done < ticket {
            // The flusher completes every ticket it saw before it exits; a
            // ticket it never saw was taken too late to be served.
            if sh.exited.load(Ordering::Acquire) {
                return Err(Error::Shutdown);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout);
            }
            done = sh
                .flush_cv
                .wait_timeout(done, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(())
    }

    /// Writes everything logged, stops the flusher and, when every ring is
    /// empty, removes the instance directory. Records logged afterwards are
    /// refused with [`crate::LogError::Shutdown`]. Calling it again is a
    /// no-op.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the flusher needs longer than `timeout`; it
    /// then goes on in the background and the directory is left for
    /// recovery.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        let sh = &self.shared;
        if sh.forked() {
            // The rings and the flusher belong to the parent process.
            sh.state.store(CLOSED, Ordering::SeqCst);
            return Ok(());
        }
        if sh
            .state
            .compare_exchange(RUNNING, CLOSING, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(());
        }
        crate::crash::detach(sh);
        sh.stop.store(true, Ordering::SeqCst);
        if let Some(t) = sh.flusher.get() {
            t.unpark();
        }
        let deadline = Instant::now() + timeout;
        {
            let mut g = lock(&sh.flush_done);
            while !sh.exited.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= deadline {
                    return Err(Error::Timeout);
                }
                g = sh
                    .flush_cv
                    .wait_timeout(g, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        if let Some(h) = lock(&self.join).take() {
            let _ = h.join();
        }
        // A record whose call raced with shutdown may have been committed
        // after the final drain: then the directory stays for recovery.
        let all_empty = lock(&sh.rings).iter().all(|r| {
            let (h, t) = r.readable();
            h == t
        });
        if all_empty {
            if let Some(inst) = lock(&sh.instance).take() {
                let _ = inst.remove();
            }
        }
        // Root loggers point back at this state; drop them, and the rings,
        // so a stopped runtime keeps no mapping and no cycle alive. Threads
        // still holding a ring release it when they exit.
        let counters = &sh.counters;
        for r in lock(&sh.rings).drain(..) {
            Counters::add(
                &counters.retired_logged,
                r.header().prod.committed.load(Ordering::Relaxed),
            );
            let rc = &r.header().counters;
            Counters::add(
                &counters.retired_dropped,
                rc.dropped.load(Ordering::Relaxed),
            );
        }
        lock(&sh.roots).clear();
        sh.state.store(CLOSED, Ordering::SeqCst);
        Ok(())
    }

    /// True until [`Runtime::shutdown`] begins.
    pub fn is_running(&self) -> bool {
        self.shared.state.load(Ordering::Relaxed) == RUNNING && !self.shared.forked()
    }

    /// True in a child process that inherited this runtime through
    /// `fork()`: it refuses records (counted), and `shutdown` only marks it
    /// stopped. Start a new runtime in the child to log there.
    pub fn is_forked(&self) -> bool {
        self.shared.forked()
    }

    /// The instance directory (`<ring_dir>/<pid>-<start>-<nonce>`).
    pub fn instance_dir(&self) -> &std::path::Path {
        &self.shared.instance_dir
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let sh = &self.shared;
        let c = &sh.counters;
        // Inherited through fork(): the ring list's lock may have been held
        // by the parent's flusher at the fork, so it is not taken; the
        // rings' counts are the parent's anyway.
        let no_rings = Mutex::new(Vec::new());
        let rings = lock(if sh.forked() { &no_rings } else { &sh.rings });
        let (mut logged, mut dropped) = (
            Counters::get(&c.retired_logged),
            Counters::get(&c.retired_dropped),
        );
        for r in rings.iter() {
            let rc = &r.header().counters;
            logged += r.header().prod.committed.load(Ordering::Relaxed);
            dropped += rc.dropped.load(Ordering::Relaxed);
        }
        Stats {
            logged,
            dropped_full: dropped,
            rejected_too_large: Counters::get(&c.rejected_too_large),
            rejected_invalid: Counters::get(&c.rejected_invalid),
            rejected_shutdown: Counters::get(&c.rejected_shutdown),
            written: Counters::get(&c.written),
            bytes_written: Counters::get(&c.bytes_written),
            write_errors: Counters::get(&c.write_errors),
            sink_panics: Counters::get(&c.sink_panics),
            recovered: Counters::get(&c.recovered),
            recovered_instances: Counters::get(&c.recovered_instances),
            recovery_bad_frames: Counters::get(&c.recovery_bad_frames),
            recovery_bad_files: Counters::get(&c.recovery_bad_files),
            metadata_errors: Counters::get(&sh.registry.meta_errors),
            ring_high_water: Counters::get(&c.ring_high_water),
            rings_active: rings.len() as u64,
            rings_reclaimed: Counters::get(&c.rings_reclaimed),
            write_retries: Counters::get(&c.write_retries),
            sync_errors: Counters::get(&c.sync_errors),
            sink_failures: Counters::get(&c.sink_failures),
            reopens: Counters::get(&c.reopens),
            truncations: Counters::get(&c.truncations),
            bytes_lost: Counters::get(&c.bytes_lost),
            records_lost: Counters::get(&c.records_lost),
            bytes_pending: Counters::get(&c.bytes_pending),
        }
    }

    /// Recovers the dead instances under `ring_dir` (default: this
    /// runtime's own ring directory) through this runtime's sinks, and
    /// waits up to `timeout` for it.
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Shutdown`], as [`Runtime::flush`];
    /// after a timeout the recovery still runs.
    pub fn recover(
        &self,
        ring_dir: Option<&std::path::Path>,
        timeout: Duration,
    ) -> Result<crate::recover::Report, Error> {
        let sh = &self.shared;
        if sh.forked() {
            return Err(Error::Shutdown);
        }
        let dir = match ring_dir {
            Some(d) => d.to_path_buf(),
            None => sh.ring_dir().to_path_buf(),
        };
        // Ordering: Relaxed: ids only need to be unique.
        let id = sh.next_recover.fetch_add(1, Ordering::Relaxed);
        lock(&sh.recover_reqs).push((id, dir));
        // The flush ticket taken after the push is served by a cycle that
        // began after it, and cycles take the requests first.
        self.flush(timeout)?;
        lock(&sh.recover_done).remove(&id).ok_or(Error::Shutdown)
    }

    /// Each sink's own counters: the configured sinks by name, then those
    /// the builder added. The runtime-wide sink counters in
    /// [`Runtime::stats`] are their sums.
    pub fn sink_stats(&self) -> Vec<crate::stats::SinkStats> {
        self.shared
            .sink_counters
            .iter()
            .map(|c| c.snapshot())
            .collect()
    }

    /// Changes levels at run time: `{"level": …, "levels": {…},
    /// "sinks": {"name": {"level": …}}}`. Each change is an atomic store;
    /// nothing restarts.
    ///
    /// # Errors
    /// [`Error::Config`] naming a key that cannot change at run time, a bad
    /// level, or an unknown sink.
    pub fn reconfigure(&self, text: &str) -> Result<(), Error> {
        self.reconfigure_levels(LevelChanges::parse(text)?)
    }

    /// [`Runtime::reconfigure`] with changes already parsed (a binding that
    /// keeps some of them to itself hands the core the rest).
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown sink; [`Error::Shutdown`] in a
    /// forked child.
    pub fn reconfigure_levels(&self, ch: LevelChanges) -> Result<(), Error> {
        let sh = &self.shared;
        if sh.forked() {
            // The parent's runtime: its locks may have been held at the fork.
            return Err(Error::Shutdown);
        }
        for name in ch.sinks.keys() {
            if !sh.sink_levels.iter().any(|(n, _)| n == name) {
                return Err(Error::Config(format!(
                    "sinks.{name}: no sink has this name"
                )));
            }
        }
        {
            let mut lv = lock(&sh.levels);
            if let Some(l) = ch.level {
                lv.0 = l;
            }
            if let Some(m) = ch.levels {
                lv.1 = m.0;
            }
        }
        for (name, c) in ch.sinks {
            if let Some((_, cell)) = sh.sink_levels.iter().find(|(n, _)| *n == name) {
                cell.store(c.level.number(), Ordering::Relaxed);
            }
        }
        sh.refresh_levels();
        Ok(())
    }

    /// Number of live logger definitions (roots and children not yet
    /// retired), for tests of child-logger reclamation.
    pub fn logger_definitions(&self) -> usize {
        self.shared.registry.len()
    }
}

//! Logger definitions: interned names and bound fields.
//!
//! A record carries only its logger's id. The registry maps the id to the
//! logger's name and its bound fields (already in the binary field
//! encoding, copied once when the child logger was made). The flusher
//! caches definitions; a child logger's definition is retired when its
//! handle is freed, after the flusher has drained every record that could
//! refer to it.

use crate::meta::{self, MetaLog};
use crate::record::{validate_fields, Fields};
use crate::sync::{AtomicU64, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Id of the runtime's own logger (`ringlog`), used for drop reports.
pub(crate) const INTERNAL_LOGGER: u64 = 0;

/// One logger definition.
#[derive(Debug)]
pub(crate) struct LoggerDef {
    /// The logger's name.
    pub name: Box<[u8]>,
    /// Bound fields, in the record field encoding.
    pub bound: Box<[u8]>,
    /// How many top-level bound fields `bound` holds.
    pub bound_count: u32,
    /// For a call site (see [`crate::site`]): its level, message and keys.
    pub site: Option<SiteDef>,
}

/// What a call site adds to its logger's definition.
#[derive(Debug)]
pub(crate) struct SiteDef {
    /// Severity number of every record of the site.
    pub level: u8,
    /// The message.
    pub msg: Box<[u8]>,
    /// The key table: per key, `tag u8, 0 u8, key_len u16, key`.
    pub keys: Box<[u8]>,
    /// Number of keys.
    pub count: u16,
}

impl LoggerDef {
    /// A root logger's definition: a name, nothing bound.
    pub(crate) fn root(name: &[u8]) -> Self {
        LoggerDef {
            name: name.into(),
            bound: Box::new([]),
            bound_count: 0,
            site: None,
        }
    }

    /// The bound fields, decoded lazily.
    pub(crate) fn bound_fields(&self) -> Fields<'_> {
        Fields::new(&self.bound, self.bound_count)
    }
}

/// The id → definition map shared by producers (which add) and the flusher
/// (which reads and retires).
#[derive(Debug)]
pub(crate) struct Registry {
    next_id: AtomicU64,
    defs: Mutex<Defs>,
    retired: Mutex<Vec<u64>>,
    /// Definitions the metadata file could not take.
    pub(crate) meta_errors: AtomicU64,
}

/// The map and the metadata file, under one lock so the file's order is
/// the order ids were handed out.
#[derive(Debug)]
struct Defs {
    map: HashMap<u64, Arc<LoggerDef>>,
    meta: Option<MetaLog>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    /// A registry whose definitions are also appended to `meta` (when
    /// given), for recovery by another process.
    pub(crate) fn new(meta: Option<MetaLog>) -> Self {
        let mut defs = HashMap::new();
        defs.insert(INTERNAL_LOGGER, Arc::new(LoggerDef::root(b"ringlog")));
        Registry {
            next_id: AtomicU64::new(1),
            defs: Mutex::new(Defs { map: defs, meta }),
            retired: Mutex::new(Vec::new()),
            meta_errors: AtomicU64::new(0),
        }
    }

    /// Adds a definition and returns its id.
    pub(crate) fn define(&self, def: LoggerDef) -> (u64, Arc<LoggerDef>) {
        debug_assert!(validate_fields(&def.bound, def.bound_count, 0) == Ok(def.bound.len()));
        // Ordering: Relaxed: ids only need to be unique; the definition is
        // published to the flusher by the mutex below, before any record
        // with this id can exist.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let def = Arc::new(def);
        let mut d = lock(&self.defs);
        // Appended before the id is returned, so before any record can
        // name it. A failed append costs recovery the logger's name only.
        if let Some(m) = &mut d.meta {
            if m.append(id, &def).is_err() {
                self.meta_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        d.map.insert(id, def.clone());
        (id, def)
    }

    /// Looks a definition up.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<LoggerDef>> {
        lock(&self.defs).map.get(&id).cloned()
    }

    /// Marks a definition for removal once the flusher has drained past it.
    pub(crate) fn retire(&self, id: u64) {
        lock(&self.retired).push(id);
    }

    /// Takes the ids retired so far (flusher, at the start of a cycle).
    pub(crate) fn take_retired(&self) -> Vec<u64> {
        std::mem::take(&mut *lock(&self.retired))
    }

    /// Removes definitions (flusher, after a cycle that drained every ring).
    pub(crate) fn remove(&self, ids: &[u64]) {
        let mut d = lock(&self.defs);
        let mut gone = 0;
        for id in ids {
            if let Some(def) = d.map.remove(id) {
                gone += meta::entry_len(&def);
            }
        }
        let Defs { map, meta } = &mut *d;
        if let Some(m) = meta {
            if gone > 0
                && m.removed(gone, map.iter().map(|(k, v)| (*k, &**v)))
                    .is_err()
            {
                self.meta_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Number of live definitions (for tests and stats).
    pub(crate) fn len(&self) -> usize {
        lock(&self.defs).map.len()
    }
}

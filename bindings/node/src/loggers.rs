//! Logger slots: what a JS logger is on the native side.
//!
//! A JS logger holds a small integer, the index of its slot in this
//! thread's table, and writes it into each record it sends; the table
//! lookup costs less than unwrapping a native object through Node-API.
//! JS objects never leave their thread (each worker has its own), so the
//! table is thread-local and needs no lock. A `FinalizationRegistry` on the
//! JS side frees the slot of a logger that was garbage-collected.
//!
//! A slot keeps the logger's name and its bound fields (in the wire
//! format, parent's first) and makes its core logger on first use,
//! again whenever the runtime's generation changed.

use crate::runtime;
use crate::wire::{Node, Reader};
use std::cell::RefCell;

/// One logger.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The logger's name.
    name: String,
    /// The bound fields, encoded (a `field*` run).
    bound: Box<[u8]>,
    /// How many fields `bound` holds.
    bound_count: u32,
    /// The core logger and the generation it was made for.
    core: Option<(u32, ringlog::Logger)>,
}

/// Why a slot has no core logger.
#[derive(Debug)]
pub(crate) enum ResolveError {
    /// The runtime could not start (the reason is kept for
    /// `runtime::last_error`).
    NoRuntime,
    /// The bound fields do not decode (a bug on the JS side).
    BadBound,
}

impl Slot {
    /// The core logger, made (and the runtime started) on first use.
    #[inline]
    pub(crate) fn resolve(&mut self) -> Result<&ringlog::Logger, ResolveError> {
        let g = runtime::generation();
        if !matches!(&self.core, Some((sg, _)) if *sg == g) {
            self.resolve_slow()?;
        }
        match &self.core {
            Some((_, l)) => Ok(l),
            None => Err(ResolveError::NoRuntime),
        }
    }

    #[cold]
    fn resolve_slow(&mut self) -> Result<(), ResolveError> {
        // Dropped first: a stale child retires its definition.
        self.core = None;
        let (g, rt) = runtime::runtime().map_err(|_| ResolveError::NoRuntime)?;
        let root = rt.logger(&self.name);
        let l = if self.bound_count == 0 {
            root
        } else {
            let mut nodes: Vec<Node<'_>> = Vec::with_capacity(self.bound_count as usize);
            Reader::new(&self.bound)
                .run_into(self.bound_count as usize, &mut nodes)
                .map_err(|_| ResolveError::BadBound)?;
            match root.child(&nodes) {
                Ok(c) => c,
                // Bound fields the core cannot take (more than 65535):
                // log without them rather than not at all.
                Err(ringlog::Error::Config(_)) => root,
                Err(_) => return Err(ResolveError::NoRuntime),
            }
        };
        self.core = Some((g, l));
        Ok(())
    }
}

thread_local! {
    /// This thread's slots; `None` marks a free one.
    static SLOTS: RefCell<Table> = const { RefCell::new(Table { slots: Vec::new(), free: Vec::new() }) };
}

/// The slot table of one thread.
#[derive(Debug)]
pub(crate) struct Table {
    /// Slots by id; id 0 is never handed out.
    slots: Vec<Option<Slot>>,
    /// Free ids, reused first.
    free: Vec<u32>,
}

impl Table {
    /// The slot with this id.
    #[inline]
    pub(crate) fn get(&mut self, id: u32) -> Option<&mut Slot> {
        self.slots.get_mut(id as usize)?.as_mut()
    }
}

/// Runs `f` with this thread's table; `None` while the thread exits.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&mut Table) -> R) -> Option<R> {
    SLOTS
        .try_with(|t| t.try_borrow_mut().ok().map(|mut t| f(&mut t)))
        .ok()
        .flatten()
}

/// Makes a slot: a root logger (`parent` 0) or a child of `parent` with
/// `count` more fields encoded in `bound`. Returns its id, or 0 when the
/// parent is unknown.
pub(crate) fn create(name: &str, parent: u32, bound: &[u8], count: u32) -> u32 {
    with(|t| {
        let (name, mut all, mut n) = match parent {
            0 => (name.to_owned(), Vec::new(), 0u32),
            p => match t.get(p) {
                Some(s) => (s.name.clone(), s.bound.to_vec(), s.bound_count),
                None => return 0,
            },
        };
        all.extend_from_slice(bound);
        n = n.saturating_add(count);
        let slot = Slot {
            name,
            bound: all.into_boxed_slice(),
            bound_count: n,
            core: None,
        };
        match t.free.pop() {
            Some(id) => {
                t.slots[id as usize] = Some(slot);
                id
            }
            None => {
                if t.slots.is_empty() {
                    t.slots.push(None);
                }
                let Ok(id) = u32::try_from(t.slots.len()) else {
                    return 0;
                };
                t.slots.push(Some(slot));
                id
            }
        }
    })
    .unwrap_or(0)
}

/// Frees a slot (its JS logger was garbage-collected).
pub(crate) fn release(id: u32) {
    with(|t| {
        if let Some(s) = t.slots.get_mut(id as usize) {
            if s.take().is_some() {
                t.free.push(id);
            }
        }
    });
}

/// Drops every slot of this thread (its JS environment is going away).
pub(crate) fn clear() {
    with(|t| {
        t.slots.clear();
        t.free.clear();
    });
}

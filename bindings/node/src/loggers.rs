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
//!
//! A slot also keeps the call sites the JS side defined for it (a
//! message, keys and value kinds seen more than once on this logger, see
//! `lib/encode.js`); each becomes a core [`ringlog::site::Site`] of the slot's
//! core logger on first use, again after a generation change, so a record
//! through it sends only its values.

use crate::runtime;
use crate::wire::{Node, Reader};
use std::cell::RefCell;

/// How many call sites one logger may define; past that its records take
/// the keyed path (a program whose messages are all different must not
/// grow the core's definitions without bound).
pub(crate) const MAX_SITES: usize = 64;

/// The longest call-site key, in bytes (the core's own limit).
const MAX_SITE_KEY: usize = u16::MAX as usize;

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
    /// The call sites defined for this logger; a site's id is its index
    /// plus one.
    sites: Vec<SiteSlot>,
}

/// A call site of one logger.
#[derive(Debug)]
pub(crate) struct SiteSlot {
    /// Its level.
    level: ringlog::Level,
    /// Its message.
    msg: Box<[u8]>,
    /// Its keys.
    keys: Box<[Box<[u8]>]>,
    /// The kind of each key's values.
    kinds: Box<[ringlog::site::Kind]>,
    /// The core site and the generation it was made for.
    core: Option<(u32, ringlog::site::Site)>,
}

/// Why a site record cannot be logged.
#[derive(Debug)]
pub(crate) enum SiteError {
    /// As for the slot's logger.
    Logger(ResolveError),
    /// No site has this id.
    Unknown,
    /// The core would not make the site (a fork child's runtime).
    Refused,
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

    /// The core site `id` (and the kinds of its values), made on first
    /// use and again after a generation change.
    #[inline]
    pub(crate) fn site(
        &mut self,
        id: u32,
    ) -> Result<(&ringlog::site::Site, &[ringlog::site::Kind]), SiteError> {
        self.resolve().map_err(SiteError::Logger)?;
        let Some((g, logger)) = &self.core else {
            return Err(SiteError::Logger(ResolveError::NoRuntime));
        };
        let g = *g;
        let i = (id as usize).checked_sub(1).ok_or(SiteError::Unknown)?;
        let s = self.sites.get_mut(i).ok_or(SiteError::Unknown)?;
        if !matches!(&s.core, Some((sg, _)) if *sg == g) {
            s.core = None;
            let keys: Vec<(&[u8], ringlog::site::Kind)> = s
                .keys
                .iter()
                .map(|k| &k[..])
                .zip(s.kinds.iter().copied())
                .collect();
            let site = logger
                .site_bytes(s.level, &s.msg, &keys)
                .map_err(|_| SiteError::Refused)?;
            s.core = Some((g, site));
        }
        match &s.core {
            Some((_, site)) => Ok((site, &s.kinds)),
            None => Err(SiteError::Refused),
        }
    }

    /// Adds a call site; returns its id, or 0 when this logger has
    /// [`MAX_SITES`] already, or the definition is one the core would
    /// refuse (an unknown level, more than 65,535 keys, a key longer than
    /// 65,535 bytes).
    pub(crate) fn define_site(&mut self, def: &crate::wire::SiteDef<'_>) -> u32 {
        let Some(level) = ringlog::Level::from_number(def.level) else {
            return 0;
        };
        if self.sites.len() >= MAX_SITES
            || def.keys.len() > u16::MAX as usize
            || def.keys.iter().any(|(k, _)| k.len() > MAX_SITE_KEY)
        {
            return 0;
        }
        self.sites.push(SiteSlot {
            level,
            msg: def.msg.into(),
            keys: def.keys.iter().map(|(k, _)| (*k).into()).collect(),
            kinds: def.keys.iter().map(|(_, t)| *t).collect(),
            core: None,
        });
        self.sites.len() as u32
    }

    #[cold]
    fn resolve_slow(&mut self) -> Result<(), ResolveError> {
        // Dropped first: a stale child retires its definition (its sites
        // hold it too).
        for s in &mut self.sites {
            s.core = None;
        }
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
            sites: Vec::new(),
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

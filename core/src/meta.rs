//! The instance's metadata file: an append-only log of logger definitions.
//!
//! A record names its logger by id only. For another process (recovery)
//! to print the logger's name and bound fields, every definition is
//! appended to `<instance>/meta` before the id is handed out, so before
//! any record can refer to it. The append is one `write(2)` on an
//! `O_APPEND` descriptor: once it returns the bytes are in the page cache
//! and survive the death of the process.
//!
//! Layout: the 8-byte magic [`MAGIC`], then entries, each
//! `[u32 body length][u32 CRC32C of the body][body]`, all integers in the
//! machine's byte order (as the ring files). A logger body is
//! `[u8 kind = 1][u64 id][u32 name length][name][u32 bound count][bound]`,
//! where `bound` is the record field encoding of the bound fields. A call
//! site's body is `[u8 kind = 2][u64 id][u32 name length][name][u32 bound
//! count][u32 bound length][bound][u8 level][u8 0][u16 key count][u32
//! message length][message][key table]` (see `record` for the key table).
//!
//! A process that makes many short-lived child loggers would grow the file
//! without end, so when retired definitions make up most of it the file is
//! rewritten with only the live ones (a new file renamed over the old, so
//! a reader sees one or the other, never a mix).

use crate::level::Level;
use crate::os;
use crate::record::{key_table_ok, validate_fields};
use crate::registry::{LoggerDef, SiteDef};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// `"RLMETA"`, then the format version as two bytes.
pub(crate) const MAGIC: [u8; 8] = *b"RLMETA\x00\x01";
/// Name of the metadata file in an instance directory.
pub(crate) const FILE_NAME: &str = "meta";
/// Entry kind: a logger definition.
const KIND_LOGGER: u8 = 1;
/// Entry kind: a call-site definition.
const KIND_SITE: u8 = 2;
/// Largest entry body a reader accepts.
const MAX_ENTRY: u32 = 1 << 26;
/// Compaction starts only past this many bytes.
const COMPACT_MIN: u64 = 1 << 20;

/// The writing side, owned by the registry (under its lock).
#[derive(Debug)]
pub(crate) struct MetaLog {
    dir: PathBuf,
    file: File,
    /// Bytes in the file.
    total: u64,
    /// Bytes of entries whose logger is still defined.
    live: u64,
}

/// Serialises one logger definition as an entry (header included).
fn entry(id: u64, def: &LoggerDef) -> Vec<u8> {
    let mut body = Vec::with_capacity(entry_len(def) as usize - 8);
    body.push(if def.site.is_some() {
        KIND_SITE
    } else {
        KIND_LOGGER
    });
    body.extend_from_slice(&id.to_ne_bytes());
    body.extend_from_slice(&(def.name.len() as u32).to_ne_bytes());
    body.extend_from_slice(&def.name);
    body.extend_from_slice(&def.bound_count.to_ne_bytes());
    if let Some(site) = &def.site {
        body.extend_from_slice(&(def.bound.len() as u32).to_ne_bytes());
        body.extend_from_slice(&def.bound);
        body.extend_from_slice(&[site.level, 0]);
        body.extend_from_slice(&site.count.to_ne_bytes());
        body.extend_from_slice(&(site.msg.len() as u32).to_ne_bytes());
        body.extend_from_slice(&site.msg);
        body.extend_from_slice(&site.keys);
    } else {
        body.extend_from_slice(&def.bound);
    }
    debug_assert_eq!(body.len() as u64 + 8, entry_len(def));
    let mut e = Vec::with_capacity(8 + body.len());
    e.extend_from_slice(&(body.len() as u32).to_ne_bytes());
    e.extend_from_slice(&crate::crc::crc32c(&body).to_ne_bytes());
    e.extend_from_slice(&body);
    e
}

/// Size of the entry [`entry`] makes for `def`.
pub(crate) fn entry_len(def: &LoggerDef) -> u64 {
    let site = match &def.site {
        Some(s) => 12 + s.msg.len() + s.keys.len(),
        None => 0,
    };
    (8 + 17 + def.name.len() + def.bound.len() + site) as u64
}

fn create(path: &Path) -> io::Result<File> {
    let mut f = os::open_file(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_APPEND,
        0o600,
        false,
    )?;
    f.write_all(&MAGIC)?;
    Ok(f)
}

impl MetaLog {
    /// Creates `<dir>/meta`.
    ///
    /// # Errors
    /// Any error creating or writing the file.
    pub(crate) fn create(dir: &Path) -> io::Result<MetaLog> {
        let file = create(&dir.join(FILE_NAME))?;
        Ok(MetaLog {
            dir: dir.to_path_buf(),
            file,
            total: MAGIC.len() as u64,
            live: MAGIC.len() as u64,
        })
    }

    /// Appends a definition.
    ///
    /// # Errors
    /// The write error (the definition then cannot be named by recovery).
    pub(crate) fn append(&mut self, id: u64, def: &LoggerDef) -> io::Result<()> {
        let e = entry(id, def);
        // One write: O_APPEND places it whole at the end. If it fails part
        // way (a full disk), cut the file back so the next entry does not
        // land behind a broken one.
        if let Err(err) = self.file.write_all(&e) {
            let _ = self.file.set_len(self.total);
            return Err(err);
        }
        self.total += e.len() as u64;
        self.live += e.len() as u64;
        Ok(())
    }

    /// Notes that a definition of `len` entry bytes was removed, and
    /// rewrites the file from `live` when most of it is dead.
    ///
    /// # Errors
    /// An error writing the new file (the old one is then kept).
    pub(crate) fn removed<'a>(
        &mut self,
        len: u64,
        live: impl Iterator<Item = (u64, &'a LoggerDef)>,
    ) -> io::Result<()> {
        self.live = self.live.saturating_sub(len);
        if self.total < COMPACT_MIN || self.live * 2 > self.total {
            return Ok(());
        }
        let tmp = self.dir.join("meta.new");
        let _ = std::fs::remove_file(&tmp);
        let mut f = create(&tmp)?;
        let mut buf = Vec::with_capacity(self.live as usize);
        for (id, def) in live {
            buf.extend_from_slice(&entry(id, def));
        }
        let r = f
            .write_all(&buf)
            .and_then(|_| std::fs::rename(&tmp, self.dir.join(FILE_NAME)));
        if let Err(e) = r {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.file = f;
        self.total = (MAGIC.len() + buf.len()) as u64;
        self.live = self.total;
        Ok(())
    }
}

/// What reading a metadata file found.
#[derive(Debug, Default)]
pub(crate) struct MetaRead {
    /// Definitions by id.
    pub defs: HashMap<u64, LoggerDef>,
    /// Entries skipped because they were damaged.
    pub bad_entries: u64,
    /// Why the file (or part of it) could not be read, if it could not.
    pub problem: Option<String>,
}

/// Reads a metadata file, skipping damaged entries. Never fails: what
/// cannot be read is counted and described.
pub(crate) fn read(path: &Path, max_len: u64) -> MetaRead {
    let mut out = MetaRead::default();
    let bytes = match os::open_file(path, libc::O_RDONLY, 0, false).and_then(|f| {
        let mut v = Vec::new();
        f.take(max_len).read_to_end(&mut v)?;
        Ok(v)
    }) {
        Ok(b) => b,
        Err(e) => {
            out.problem = Some(format!("cannot read the metadata file: {e}"));
            return out;
        }
    };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        out.problem = Some(if bytes.len() < MAGIC.len() {
            "metadata file truncated before its magic".into()
        } else {
            "metadata file has a wrong magic or version".into()
        });
        return out;
    }
    parse_entries(&bytes[MAGIC.len()..], &mut out);
    out
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn parse_entries(mut b: &[u8], out: &mut MetaRead) {
    while !b.is_empty() {
        let (Some(len), Some(crc)) = (u32_at(b, 0), u32_at(b, 4)) else {
            out.bad_entries += 1;
            out.problem = Some("metadata file ends inside an entry header".into());
            return;
        };
        if len > MAX_ENTRY || 8 + len as usize > b.len() {
            // The length itself is damaged (or the last append was cut
            // short): nothing after it can be framed.
            out.bad_entries += 1;
            out.problem = Some("metadata entry with an impossible length".into());
            return;
        }
        let body = &b[8..8 + len as usize];
        b = &b[8 + len as usize..];
        if crate::crc::crc32c(body) != crc {
            out.bad_entries += 1;
            out.problem = Some("metadata entry with a bad CRC".into());
            continue;
        }
        match parse_logger(body) {
            Some((id, def)) => {
                out.defs.insert(id, def);
            }
            None => {
                out.bad_entries += 1;
                out.problem = Some("metadata entry that does not decode".into());
            }
        }
    }
}

fn parse_logger(b: &[u8]) -> Option<(u64, LoggerDef)> {
    let kind = *b.first()?;
    if kind != KIND_LOGGER && kind != KIND_SITE {
        return None;
    }
    let id = u64_at(b, 1)?;
    let nlen = u32_at(b, 9)? as usize;
    let name = b.get(13..13usize.checked_add(nlen)?)?;
    let mut at = 13 + nlen;
    let count = u32_at(b, at)?;
    at += 4;
    let (bound, site) = if kind == KIND_SITE {
        let blen = u32_at(b, at)? as usize;
        let bound = b.get(at + 4..(at + 4).checked_add(blen)?)?;
        at += 4 + blen;
        let level = *b.get(at)?;
        Level::from_number(level)?;
        let kcount = u16::from_ne_bytes(b.get(at + 2..at + 4)?.try_into().ok()?);
        let mlen = u32_at(b, at + 4)? as usize;
        let msg = b.get(at + 8..(at + 8).checked_add(mlen)?)?;
        let keys = &b[at + 8 + mlen..];
        if !key_table_ok(keys, kcount) {
            return None;
        }
        let site = SiteDef {
            level,
            msg: msg.into(),
            keys: keys.into(),
            count: kcount,
        };
        (bound, Some(site))
    } else {
        (&b[at..], None)
    };
    if validate_fields(bound, count, 0).ok()? != bound.len() {
        return None;
    }
    Some((
        id,
        LoggerDef {
            name: name.into(),
            bound: bound.into(),
            bound_count: count,
            site,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_fields;
    use crate::value::Field;

    fn def(name: &str, bound: &[Field<'_>]) -> LoggerDef {
        LoggerDef {
            name: name.as_bytes().into(),
            bound: encode_fields(bound).unwrap().into_boxed_slice(),
            bound_count: bound.len() as u32,
            site: None,
        }
    }

    #[test]
    fn definitions_round_trip_and_damage_is_counted_not_fatal() {
        let d = tempfile::tempdir().unwrap();
        let mut m = MetaLog::create(d.path()).unwrap();
        m.append(1, &def("api", &[])).unwrap();
        m.append(2, &def("api", &[Field::str("req", "r-1")]))
            .unwrap();
        m.append(3, &def("db", &[Field::i64("shard", 4)])).unwrap();
        let path = d.path().join(FILE_NAME);
        let r = read(&path, u64::MAX);
        assert_eq!(r.defs.len(), 3, "{:?}", r.problem);
        assert_eq!(r.bad_entries, 0);
        assert_eq!(&*r.defs[&2].name, b"api");
        assert_eq!(r.defs[&2].bound_count, 1);

        // Flip a byte inside the second entry's body: it alone is lost.
        let mut bytes = std::fs::read(&path).unwrap();
        let second = 8 + entry_len(&def("api", &[])) as usize;
        bytes[second + 12] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let r = read(&path, u64::MAX);
        assert_eq!(r.bad_entries, 1);
        assert!(r.defs.contains_key(&1) && r.defs.contains_key(&3));
        assert!(!r.defs.contains_key(&2));

        // Cut the file inside the last entry: the earlier ones still read.
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        let r = read(&path, u64::MAX);
        assert!(r.defs.contains_key(&1));
        assert!(r.problem.is_some());

        // Wrong magic and an empty file: nothing, with a reason.
        std::fs::write(&path, b"NOTMETA!garbage").unwrap();
        assert!(read(&path, u64::MAX).problem.unwrap().contains("magic"));
        std::fs::write(&path, b"").unwrap();
        assert!(read(&path, u64::MAX).problem.unwrap().contains("truncated"));
    }

    #[test]
    fn call_site_definitions_round_trip_and_bad_key_tables_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let mut m = MetaLog::create(d.path()).unwrap();
        let mut keys = vec![crate::record::tag::STR, 0];
        keys.extend_from_slice(&4u16.to_ne_bytes());
        keys.extend_from_slice(b"user");
        let mut site = def("api", &[Field::i64("shard", 2)]);
        site.site = Some(SiteDef {
            level: 9,
            msg: b"request handled".to_vec().into_boxed_slice(),
            keys: keys.clone().into_boxed_slice(),
            count: 1,
        });
        m.append(4, &site).unwrap();
        assert_eq!(m.total, MAGIC.len() as u64 + entry_len(&site));
        // A key table that does not match its count is a damaged entry.
        let mut bad = def("api", &[]);
        bad.site = Some(SiteDef {
            level: 9,
            msg: Box::new([]),
            keys: keys.into_boxed_slice(),
            count: 2,
        });
        m.append(5, &bad).unwrap();
        let r = read(&d.path().join(FILE_NAME), u64::MAX);
        assert_eq!(r.bad_entries, 1);
        let got = &r.defs[&4];
        assert_eq!((&*got.name, got.bound_count), (&b"api"[..], 1));
        let s = got.site.as_ref().unwrap();
        assert_eq!((s.level, &*s.msg, s.count), (9, &b"request handled"[..], 1));
        assert!(!r.defs.contains_key(&5));
    }

    #[test]
    fn a_file_of_mostly_retired_definitions_is_rewritten_with_the_live_ones() {
        let d = tempfile::tempdir().unwrap();
        let mut m = MetaLog::create(d.path()).unwrap();
        let big = "x".repeat(1000);
        let defs: Vec<LoggerDef> = (0..1200)
            .map(|i| def(&format!("l{i}"), &[Field::str("pad", &big)]))
            .collect();
        for (i, d) in defs.iter().enumerate() {
            m.append(i as u64, d).unwrap();
        }
        let before = m.total;
        assert!(before > COMPACT_MIN);
        // Retire all but the last ten, one by one, as the flusher would.
        for i in 0..1190 {
            let live = defs
                .iter()
                .enumerate()
                .skip(i + 1)
                .map(|(k, d)| (k as u64, d));
            m.removed(entry_len(&defs[i]), live).unwrap();
        }
        // Compacted once half was dead; below COMPACT_MIN it stops.
        assert!(m.total <= COMPACT_MIN, "{} vs {before}", m.total);
        let on_disk = std::fs::metadata(d.path().join(FILE_NAME)).unwrap().len();
        assert_eq!(on_disk, m.total);
        let r = read(&d.path().join(FILE_NAME), u64::MAX);
        assert_eq!(r.bad_entries, 0);
        assert!(r.defs.contains_key(&1199));
        assert!(!r.defs.contains_key(&0));
        // Appends after a rewrite land in the new file.
        m.append(5000, &def("late", &[])).unwrap();
        let r = read(&d.path().join(FILE_NAME), u64::MAX);
        assert!(r.defs.contains_key(&5000));
        assert!(!d.path().join("meta.new").exists());
    }
}

//! A sink that panics on every write is caught on the flusher thread,
//! counted (`sink_panics`, and against that sink in `sink_stats`) and
//! retried like a failing sink; the other sinks get every record, and the
//! runtime keeps running.
mod common;
use ringlog::sink::memory::MemorySink;
use ringlog::sink::Sink;
use ringlog::{Config, Field, Runtime};

struct Panics;

impl Sink for Panics {
    fn write_batch(&mut self, _buf: &[u8]) -> std::io::Result<()> {
        panic!("sink bug");
    }
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panicking_sink_is_counted_and_the_other_sinks_go_on() {
    let d = tempfile::tempdir().unwrap();
    let (mem, out) = MemorySink::new();
    let rt = Runtime::builder(Config {
        ring_dir: Some(d.path().join("rings")),
        ..Config::default()
    })
    .replace_sinks()
    .sink("bad", Box::new(Panics))
    .sink("good", Box::new(mem))
    .start()
    .unwrap();
    let log = rt.logger("app");
    for round in 0..3u64 {
        for i in 0..100u64 {
            log.info("rec", &[Field::u64("i", round * 100 + i)])
                .unwrap();
        }
        rt.flush(common::WAIT).unwrap();
    }
    let lines = common::parse_lines(&out.lock().unwrap());
    let got: Vec<u64> = lines
        .iter()
        .filter(|v| v["msg"] == "rec")
        .map(|v| v["i"].as_u64().unwrap())
        .collect();
    assert_eq!(got, (0..300).collect::<Vec<_>>());
    // The panicking sink is treated as a failing one: counted, its bytes
    // held, and retried with backoff (so more panics are counted later).
    let st = rt.stats();
    assert!(st.sink_panics >= 1, "{st:?}");
    assert!(st.bytes_pending > 0, "{st:?}");
    common::wait_until("a retry of the panicking sink", || {
        rt.stats().sink_panics > st.sink_panics
    });
    assert!(rt.is_running());
    // Counted against that sink, not the other.
    let per = rt.sink_stats();
    let bad = per.iter().find(|s| s.name == "bad").unwrap();
    let good = per.iter().find(|s| s.name == "good").unwrap();
    assert!(bad.panics >= 2 && bad.bytes_pending > 0 && bad.bytes_written == 0);
    assert_eq!((good.panics, good.bytes_pending), (0, 0));
    assert_eq!(good.bytes_written, rt.stats().bytes_written);
    rt.shutdown(common::WAIT).unwrap();
}

//! Counts heap allocations made by the logging thread with a counting
//! global allocator: after the thread's first record (which creates its
//! ring), logging must not allocate at all.
mod common;

use ringlog::site::Kind;
use ringlog::{Field, Level, TraceContext, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only adds a thread-local count.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

#[test]
fn the_hot_path_allocates_nothing_after_the_first_record() {
    // `block` with a long timeout: the waiting path must not allocate either.
    let h = common::start(|c| {
        c.ring_capacity = 1 << 16;
        c.full_policy = ringlog::FullPolicy::Block;
        c.block_timeout_ms = 30_000;
    });
    let log = h.rt.logger("hot");
    let child = log.child(&[Field::str("request_id", "r-1")]).unwrap();
    let inner = [Field::i64("a", 1), Field::new("n", Value::Null)];
    let fields = [
        Field::str("user", "alice"),
        Field::i64("status", 200),
        Field::f64("latency_ms", 12.5),
        Field::u64("u", 7),
        Field::bool("ok", true),
        Field::bytes("b", b"\x00\x01"),
        Field::group("g", &inner),
    ];
    let ctx = TraceContext::new([1; 16], [2; 8], 1).unwrap();
    let site = child
        .site(
            Level::INFO,
            "site record",
            &[
                ("user", Kind::Str),
                ("status", Kind::I64),
                ("ok", Kind::Bool),
                ("b", Kind::Bytes),
                ("n", Kind::Null),
            ],
        )
        .unwrap();
    let values = [
        Value::Str(b"alice"),
        Value::I64(200),
        Value::Bool(true),
        Value::Bytes(b"\x00\x01\x02\x03\x04\x05\x06\x07\x08"),
        Value::Null,
    ];
    let a0 = allocs();
    child.info("first", &fields).unwrap(); // creates the ring
    assert!(allocs() > a0, "the counter sees the ring being created");
    ringlog::context::set_current(Some(ctx));
    let before = allocs();
    for i in 0..10_000u64 {
        child.info("request handled", &fields).unwrap();
        log.log_with(
            Level::WARN,
            1_700_000_000_000_000_000 + i,
            Some(&ctx),
            b"m",
            &fields,
        )
        .unwrap();
        log.debug("level is off for nothing", &fields).unwrap();
        site.log(&values).unwrap();
    }
    let after = allocs();
    ringlog::context::clear_current();
    assert_eq!(after - before, 0, "the logging thread allocated");
    h.flush();
    assert_eq!(h.with_msg("request handled").len(), 10_000);
    assert_eq!(h.with_msg("site record").len(), 10_000);
}

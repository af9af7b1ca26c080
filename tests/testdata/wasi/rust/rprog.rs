// rprog exercises Rust's std on wasm32-wasi (preview1): arguments, environment, stdin to
// stdout, files in a preopen (read, write, list), collections and formatting, exit codes.
// Built by mk/testdata.mk with Debian's rustc 1.63 (no crates): see its inventory.
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::process;

fn args_env() {
    let args: Vec<String> = env::args().collect();
    println!("argc={}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!("arg[{}]={:?} ({} bytes)", i, a, a.len());
    }
    let mut vars: Vec<(String, String)> = env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("env {}={}", k, v);
    }
    println!("GREETING is {:?}", env::var("GREETING").ok());
    println!("MISSING is {:?}", env::var("MISSING").ok());
}

fn cat() {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let (mut lines, mut bytes) = (0usize, 0usize);
    for line in stdin.lock().lines() {
        let line = line.expect("reading stdin");
        lines += 1;
        bytes += line.len() + 1;
        writeln!(out, "{:5} {}", lines, line.to_uppercase()).unwrap();
    }
    eprintln!("cat: {} lines, {} bytes", lines, bytes);
}

fn read_files(paths: &[String]) -> i32 {
    let mut status = 0;
    for p in paths {
        match fs::read_to_string(p) {
            Ok(s) => {
                let words: BTreeMap<&str, usize> = s.split_whitespace().fold(BTreeMap::new(), |mut m, w| {
                    *m.entry(w).or_insert(0) += 1;
                    m
                });
                println!("{}: {} bytes, {} lines, words {:?}", p, s.len(), s.lines().count(), words);
            }
            Err(e) => {
                eprintln!("{}: {:?}", p, e.kind());
                status = 2;
            }
        }
    }
    status
}

fn list(dir: &str) {
    let mut names: Vec<(String, bool, u64)> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.unwrap();
            let md = e.metadata().unwrap();
            (e.file_name().to_string_lossy().into_owned(), md.is_dir(), md.len())
        })
        .collect();
    names.sort();
    for (n, d, l) in names {
        println!("{} {} {}", if d { "d" } else { "-" }, l, n);
    }
}

fn write(dir: &str) -> i32 {
    let path = format!("{}/rust-out.txt", dir);
    let mut f = match fs::File::create(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("create {}: {:?}", path, e.kind());
            return 3;
        }
    };
    for i in 0..100 {
        writeln!(f, "line {} squared {}", i, i * i).unwrap();
    }
    drop(f);
    let mut s = String::new();
    fs::File::open(&path).unwrap().read_to_string(&mut s).unwrap();
    println!("wrote {} bytes, last line {:?}", s.len(), s.lines().last());
    fs::rename(&path, format!("{}/rust-moved.txt", dir)).unwrap();
    fs::create_dir(format!("{}/sub", dir)).unwrap();
    list(dir);
    fs::remove_file(format!("{}/rust-moved.txt", dir)).unwrap();
    fs::remove_dir(format!("{}/sub", dir)).unwrap();
    0
}

fn compute() {
    let mut fib: Vec<u64> = vec![0, 1];
    while fib.len() < 90 {
        let n = fib.len();
        fib.push(fib[n - 1] + fib[n - 2]);
    }
    println!("fib[89]={}", fib[89]);
    let mut x = 1.0f64;
    for i in 1..=5 {
        x *= 1.5;
        println!("{}: {:.6} {:e} {} sqrt={:.10}", i, x, x * 1e10, x / 3.0, x.sqrt());
    }
    let mut v: Vec<i64> = (0..1000).map(|i| (i * 7919) % 1009 - 500).collect();
    v.sort_unstable();
    println!("min={} max={} sum={}", v[0], v[v.len() - 1], v.iter().sum::<i64>());
    let s: String = "héllo, wörld".chars().rev().collect();
    println!("{} {:?} {:>8}|{:<8}|{:^8}|", s, s.char_indices().nth(3), "r", "l", "c");
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("");
    let status = match mode {
        "args" => {
            args_env();
            0
        }
        "cat" => {
            cat();
            0
        }
        "read" => read_files(&args[2..]),
        "ls" => {
            list(args.get(2).map(String::as_str).unwrap_or("."));
            0
        }
        "write" => write(args.get(2).map(String::as_str).unwrap_or(".")),
        "exit" => args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1),
        "compute" => {
            compute();
            0
        }
        _ => {
            eprintln!("usage: rprog args|cat|read FILE...|ls DIR|write DIR|exit N|compute");
            64
        }
    };
    io::stdout().flush().unwrap();
    process::exit(status);
}

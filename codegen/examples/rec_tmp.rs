fn main() {
    let d = std::env::args().nth(1).unwrap();
    match events_codegen::Config::new().schema_dir(&d).generate() {
        Err(e) => print!("{e}"),
        Ok(g) => {
            let code = g.render().unwrap();
            std::fs::write("/tmp/rec/out.rs", code).unwrap();
            println!("ok")
        }
    }
}

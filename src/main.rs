fn main() -> std::process::ExitCode {
    nemo::main_entry()
}

#if !LIBFUZZER
    import ChatModel

    #if canImport(Glibc)
        import Glibc
    #endif

    /// The input being run, for the crash handler to save (one thread; read only by the handler).
    nonisolated(unsafe) private var current: [UInt8] = []
    nonisolated(unsafe) private var crashPath: [CChar] = []

    /// `letterbox-fuzz TARGET [--runs N] [--seed S] [--corpus DIR] [--save DIR]`: a seeded mutation loop
    /// over the committed seed corpus (bit flips, byte edits, splices, dictionary tokens), for where
    /// libFuzzer is not built (`make test`'s short pass). A broken promise crashes; the input is saved
    /// first to `crash-TARGET` in `--save` (default: the current folder).
    @main
    struct LetterboxFuzz {
        static func main() {
            var arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
                print(
                    "usage: letterbox-fuzz TARGET [--runs N] [--seed S] [--corpus DIR] [--save DIR]; targets: \(names)")
                exit(2)
            }
            arguments.removeFirst()
            var runs = 100_000
            var seed: UInt64 = 1
            var corpus: String?
            var save = "."
            while arguments.count >= 2 {
                let (flag, value) = (arguments[0], arguments[1])
                arguments.removeFirst(2)
                switch flag {
                case "--runs": runs = Int(value) ?? runs
                case "--seed": seed = UInt64(value) ?? seed
                case "--corpus": corpus = value
                case "--save": save = value
                default:
                    print("unknown option \(flag)")
                    exit(2)
                }
            }
            var seeds = corpus.map(readCorpus) ?? []
            if seeds.isEmpty { seeds = [[]] }
            crashPath = Array("\(save)/crash-\(target.rawValue)".utf8CString)
            installCrashHandler()
            let dictionary = target.dictionary.map { Array($0.utf8) }
            var random = SplitMix64(seed: seed)
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            for seedInput in seeds {
                current = seedInput
                target.run(seedInput)
            }
            for _ in 0..<runs {
                var input = seeds[Int(random.next() % UInt64(seeds.count))]
                for _ in 0...(random.next() % 6) {
                    mutate(&input, seeds: seeds, dictionary: dictionary, random: &random)
                }
                current = input
                target.run(input)
            }
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &end)
            let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
            let total = runs + seeds.count
            print(
                "\(target.rawValue): \(total) inputs (\(seeds.count) seeds) in \(Double(Int(seconds * 100)) / 100) s, \(Int(Double(total) / max(seconds, 1e-9))) inputs/s, 0 crashes"
            )
        }

        static func mutate(_ input: inout [UInt8], seeds: [[UInt8]], dictionary: [[UInt8]], random: inout SplitMix64) {
            func index(_ upTo: Int) -> Int { upTo <= 0 ? 0 : Int(random.next() % UInt64(upTo)) }
            switch random.next() % 8 {
            case 0 where !input.isEmpty:
                input[index(input.count)] ^= UInt8(1) << UInt8(random.next() % 8)
            case 1 where !input.isEmpty:
                input[index(input.count)] = UInt8(truncatingIfNeeded: random.next())
            case 2:
                input.insert(UInt8(truncatingIfNeeded: random.next()), at: index(input.count + 1))
            case 3 where !input.isEmpty:
                let from = index(input.count)
                input.removeSubrange(from..<min(input.count, from + 1 + index(16)))
            case 4 where !input.isEmpty:
                let from = index(input.count)
                let piece = input[from..<min(input.count, from + 1 + index(32))]
                input.insert(contentsOf: piece, at: index(input.count + 1))
            case 5:
                let other = seeds[index(seeds.count)]
                guard !other.isEmpty else { return }
                let from = index(other.count)
                input.insert(
                    contentsOf: other[from..<min(other.count, from + 1 + index(64))], at: index(input.count + 1))
            case 6 where !dictionary.isEmpty:
                input.insert(contentsOf: dictionary[index(dictionary.count)], at: index(input.count + 1))
            case 7 where input.count > 1:
                input.removeSubrange(index(input.count)...)
            default:
                input.append(UInt8(truncatingIfNeeded: random.next()))
            }
            if input.count > 4096 { input.removeSubrange(4096...) }
        }

        static func readCorpus(_ folder: String) -> [[UInt8]] {
            guard let directory = opendir(folder) else { return [] }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if !name.hasPrefix(".") { names.append(name) }
            }
            return names.sorted().compactMap { name in
                guard let file = fopen(folder + "/" + name, "rb") else { return nil }
                defer { fclose(file) }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = fread(&buffer, 1, buffer.count, file)
                    if count <= 0 { break }
                    bytes += buffer[..<count]
                }
                return bytes
            }
        }

        /// On a crash (a failed precondition traps), the input goes to `crash-TARGET` first.
        static func installCrashHandler() {
            for signal in [SIGTRAP, SIGILL, SIGABRT, SIGSEGV, SIGBUS, SIGFPE] {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = { number in
                    let fd = crashPath.withUnsafeBufferPointer { path in
                        path.baseAddress.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } ?? -1
                    }
                    if fd >= 0 {
                        _ = current.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                        close(fd)
                    }
                    let message = "letterbox-fuzz: crashed; the input is in crash-TARGET (see --save)\n"
                    _ = message.withCString { write(2, $0, strlen($0)) }
                    Glibc.signal(number, SIG_DFL)
                    raise(number)
                }
                sigaction(signal, &action, nil)
            }
        }
    }
#endif

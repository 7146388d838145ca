#if LIBFUZZER
    #if canImport(Glibc)
        import Glibc
    #endif

    // `make fuzz`: built with `swift build --sanitize=fuzzer -Xswiftc -DLIBFUZZER`; libFuzzer provides
    // `main` and calls these. The target comes from LETTERBOX_FUZZ_TARGET.
    nonisolated(unsafe) private var selected: FuzzTarget = .frontMatter

    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzerInitialize(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
    ) -> CInt {
        guard let name = getenv("LETTERBOX_FUZZ_TARGET").map({ String(cString: $0) }),
            let target = FuzzTarget(rawValue: name)
        else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            let message = "set LETTERBOX_FUZZ_TARGET to one of: \(names)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        selected = target
        return 0
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        selected.run(bytes)
        return 0
    }
#endif

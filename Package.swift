// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "nightshift",
    products: [
        .executable(name: "nightshift", targets: ["nightshift"])
    ],
    targets: [
        // C libraries from Debian packages, one system library target each.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // Libraries.
        .target(name: "Support", dependencies: ["CCrypto"]),
        .target(name: "HTTP", dependencies: ["CCurl", "Support"]),
        .target(name: "Config", dependencies: ["CYAML", "Support", "Schedules"]),
        .target(name: "Schedules", dependencies: []),
        .target(name: "Paperspace", dependencies: ["HTTP", "Support"]),
        .target(name: "Hub", dependencies: ["HTTP", "Support"]),
        .target(name: "Notifiers", dependencies: ["CSQLite", "HTTP", "Support"]),
        .target(
            name: "Agent",
            dependencies: ["CSQLite", "Config", "Schedules", "Paperspace", "Hub", "Notifiers", "Support", "HTTP"]
        ),
        .target(name: "StandIns", dependencies: ["Support", "CZlib"]),
        .target(name: "Remote", dependencies: ["Support"]),
        .target(name: "Demo", dependencies: ["StandIns", "Support"]),
        .target(name: "Archive", dependencies: ["CZlib", "Support"]),
        .executableTarget(
            name: "nightshift",
            dependencies: [
                "Agent", "Config", "Demo", "Schedules", "StandIns", "Support", "Notifiers", "Paperspace", "Hub",
                "Archive", "Remote", "HTTP",
            ]
        ),

        .executableTarget(name: "nightshift-bench", dependencies: ["Archive", "StandIns", "Support"]),
        // The randomized leak campaign in bench/leak-campaign.sh.
        .executableTarget(
            name: "nightshift-campaign",
            dependencies: ["Agent", "Config", "HTTP", "Hub", "Paperspace", "StandIns", "Support"]
        ),

        // Tests.
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "StandIns", "Support"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Support", "Schedules"]),
        .testTarget(name: "SchedulesTests", dependencies: ["Schedules", "Support"]),
        .testTarget(name: "PaperspaceTests", dependencies: ["Paperspace", "StandIns", "HTTP", "Support"]),
        .testTarget(name: "HubTests", dependencies: ["Hub", "StandIns", "HTTP", "Support"]),
        .testTarget(name: "NotifiersTests", dependencies: ["Notifiers", "StandIns", "HTTP", "Support"]),
        .testTarget(name: "StandInsTests", dependencies: ["StandIns", "Support"]),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "Support"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "Support"]),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "Demo", "StandIns", "Config", "HTTP", "Paperspace", "Hub", "Notifiers", "Schedules",
                "Support",
            ]
        ),
    ]
)

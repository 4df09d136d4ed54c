// deploy/Dockerfile's runtime stage installs the Debian package of every shared library the `ortformers` binary
// links (issue 23 item 10): the list is derived from the binary's DT_NEEDED entries (readelf -d), their paths (ldd)
// and their packages (dpkg -S), so a new dependency (FFmpeg's libavformat59, ...) cannot be forgotten again.
// Libraries of debian:12-slim itself (packages of Priority required / Essential, and what they depend on) need no
// listing; ONNX Runtime is copied from the build stage.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// stdout of a shell command ("" when it cannot run); `status` gets its exit status.
std::string capture(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int rc = ::pclose(p);
  if (status != nullptr) *status = rc;
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The sonames of the binary's DT_NEEDED entries (readelf -d: "... (NEEDED) Shared library: [libz.so.1]").
std::vector<std::string> needed_sonames(const fs::path& binary) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(capture("readelf -d " + shell_quote(binary.string())))) {
    if (line.find("(NEEDED)") == std::string::npos) continue;
    const auto open = line.find('['), close = line.rfind(']');
    if (open != std::string::npos && close > open) out.push_back(line.substr(open + 1, close - open - 1));
  }
  return out;
}

// soname -> resolved path, from ldd ("\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)").
std::map<std::string, std::string> resolved_paths(const fs::path& binary) {
  std::map<std::string, std::string> out;
  for (const auto& line : lines_of(capture("ldd " + shell_quote(binary.string())))) {
    const auto arrow = line.find(" => ");
    if (arrow == std::string::npos) {
      // The dynamic loader has no arrow: "\t/lib64/ld-linux-x86-64.so.2 (0x...)".
      std::string path =
          line.substr(line.find_first_not_of(" \t") == std::string::npos ? 0 : line.find_first_not_of(" \t"));
      path = path.substr(0, path.find(" ("));
      if (!path.empty() && path[0] == '/') out[fs::path(path).filename().string()] = path;
      continue;
    }
    std::string name = line.substr(0, arrow);
    name.erase(0, name.find_first_not_of(" \t"));
    std::string path = line.substr(arrow + 4);
    path = path.substr(0, path.find(" ("));
    if (!path.empty() && path[0] == '/') out[name] = path;
  }
  return out;
}

// The Debian package that owns `path` (dpkg -S; both sides of the merged /usr tried), or "".
std::string owning_package(const std::string& path) {
  std::vector<std::string> candidates = {path, fs::weakly_canonical(path).string()};
  for (const std::string& p : std::vector<std::string>(candidates)) {
    if (p.rfind("/usr/lib/", 0) == 0) candidates.push_back(p.substr(4));
    if (p.rfind("/lib/", 0) == 0) candidates.push_back("/usr" + p);
  }
  for (const auto& c : candidates) {
    int status = 0;
    const std::string out = capture("dpkg -S " + shell_quote(c), &status);
    if (status != 0) continue;
    for (const auto& line : lines_of(out)) {
      if (line.rfind("diversion", 0) == 0) continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      return line.substr(0, colon);  // "libavformat59:amd64: /usr/lib/..." -> "libavformat59"
    }
  }
  return "";
}

// The packages of a debian:12-slim image: Priority required or Essential, and everything they depend on, among the
// packages installed here (first alternative of each dependency).
std::set<std::string> base_image_packages() {
  std::map<std::string, std::vector<std::string>> deps;
  std::vector<std::string> todo;
  for (const auto& line : lines_of(
           capture("dpkg-query -W -f='${Package}\\t${Priority}\\t${Essential}\\t${Pre-Depends}, ${Depends}\\n'"))) {
    std::istringstream in(line);
    std::string pkg, priority, essential, depends;
    std::getline(in, pkg, '\t');
    std::getline(in, priority, '\t');
    std::getline(in, essential, '\t');
    std::getline(in, depends);
    std::vector<std::string>& d = deps[pkg];
    std::istringstream ds(depends);
    for (std::string item; std::getline(ds, item, ',');) {
      item = item.substr(0, item.find('|'));
      std::istringstream words(item);
      std::string name;
      words >> name;
      name = name.substr(0, name.find(':'));
      if (!name.empty()) d.push_back(name);
    }
    if (priority == "required" || essential == "yes") todo.push_back(pkg);
  }
  std::set<std::string> base;
  while (!todo.empty()) {
    const std::string p = todo.back();
    todo.pop_back();
    if (!base.insert(p).second) continue;
    for (const auto& d : deps[p]) todo.push_back(d);
  }
  return base;
}

// The package names of the runtime stage's `apt-get install` (the last FROM's stage; continuation lines joined).
std::set<std::string> runtime_stage_packages(const std::string& dockerfile) {
  std::string joined;
  for (const auto& line : lines_of(dockerfile)) {
    const auto first = line.find_first_not_of(" \t");
    std::string l = first != std::string::npos && line[first] == '#' ? std::string() : line;  // comment lines
    if (!l.empty() && l.back() == '\\') {
      l.pop_back();
      joined += l + " ";
    } else {
      joined += l + "\n";
    }
  }
  const auto stage = joined.rfind("\nFROM ");
  std::set<std::string> out;
  for (const auto& line : lines_of(stage == std::string::npos ? joined : joined.substr(stage))) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    for (std::size_t i = 0; i + 1 < w.size(); ++i) {
      if (w[i] != "apt-get" || w[i + 1] != "install") continue;
      for (std::size_t k = i + 2; k < w.size() && w[k] != "&&"; ++k)
        if (w[k][0] != '-') out.insert(w[k]);
    }
  }
  return out;
}

struct Derived {
  std::set<std::string> packages;                 // Debian packages the runtime stage must install
  std::vector<std::string> not_packaged;          // DT_NEEDED libraries no package owns (ONNX Runtime: copied)
  std::map<std::string, std::string> package_of;  // soname -> package, for messages
};

Derived derive(const fs::path& binary) {
  Derived d;
  const auto paths = resolved_paths(binary);
  const auto base = base_image_packages();
  for (const auto& soname : needed_sonames(binary)) {
    // A sanitizer build of the test binary links the sanitizer runtimes; the image builds without sanitizers.
    bool sanitizer = false;
    for (const char* rt : {"libasan.", "libubsan.", "libtsan.", "liblsan."})
      sanitizer = sanitizer || soname.rfind(rt, 0) == 0;
    if (sanitizer) continue;
    const auto it = paths.find(soname);
    const std::string pkg = it == paths.end() ? "" : owning_package(it->second);
    if (pkg.empty()) {
      d.not_packaged.push_back(soname);
      continue;
    }
    d.package_of[soname] = pkg;
    if (base.count(pkg) == 0) d.packages.insert(pkg);
  }
  return d;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> missing(const Derived& d, const std::set<std::string>& installed) {
  std::vector<std::string> out;
  for (const auto& p : d.packages)
    if (installed.count(p) == 0) out.push_back(p);
  return out;
}

bool tools_available() {
  int a = 0, b = 0, c = 0;
  capture("command -v readelf", &a);
  capture("command -v dpkg", &b);
  capture("command -v ldd", &c);
  return a == 0 && b == 0 && c == 0;
}

TEST(DockerfileRuntimeStage, InstallsThePackageOfEveryLibraryTheBinaryNeeds) {
  const fs::path cli = ORTFORMERS_CLI_PATH;
  if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "the ortformers CLI is not built";
  if (!tools_available()) GTEST_SKIP() << "readelf, ldd or dpkg missing (not a Debian build machine)";
  const std::string dockerfile = read_text(fs::path(ORTFORMERS_SOURCE_DIR) / "deploy" / "Dockerfile");
  ASSERT_FALSE(dockerfile.empty());
  const Derived d = derive(cli);
  ASSERT_GE(d.package_of.size(), 5u) << "readelf/ldd/dpkg gave too little to judge";
  std::string table;
  for (const auto& [so, pkg] : d.package_of) table += "  " + so + " -> " + pkg + "\n";
  const auto installed = runtime_stage_packages(dockerfile);
  ASSERT_GE(installed.size(), 3u) << "no apt-get install found in the runtime stage";
  // FFmpeg's libraries are among them (the library list of the binary this test was written against).
  for (const char* so : {"libavformat.so", "libavcodec.so", "libswresample.so", "libavutil.so"}) {
    bool found = false;
    for (const auto& [name, pkg] : d.package_of) found = found || name.rfind(so, 0) == 0;
    EXPECT_TRUE(found) << so << " is not a DT_NEEDED entry any more:\n" << table;
  }
  const auto absent = missing(d, installed);
  std::string list;
  for (const auto& p : absent) list += " " + p;
  EXPECT_TRUE(absent.empty()) << "deploy/Dockerfile's runtime stage does not install:" << list
                              << "\nDT_NEEDED -> package:\n"
                              << table;
  // Libraries no package owns must be copied from the build stage by name: only ONNX Runtime is.
  for (const auto& so : d.not_packaged) {
    EXPECT_EQ(so, "libonnxruntime.so.1") << so << " is needed, owned by no Debian package and not copied";
    EXPECT_NE(dockerfile.find("/out/usr/local/lib/" + so), std::string::npos) << so << " is not copied into /out";
  }
}

// The check itself: the runtime stage without one of the derived packages is reported, and the build stage's
// packages (the first FROM) do not count for the runtime stage.
TEST(DockerfileRuntimeStage, TheCheckReportsARemovedPackage) {
  const fs::path cli = ORTFORMERS_CLI_PATH;
  if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "the ortformers CLI is not built";
  if (!tools_available()) GTEST_SKIP() << "readelf, ldd or dpkg missing (not a Debian build machine)";
  const Derived d = derive(cli);
  ASSERT_TRUE(d.packages.count("libavformat59")) << "libavformat59 not derived";
  std::string full =
      "FROM debian:12 AS build\nRUN apt-get install -y libavformat59\n"
      "FROM debian:12-slim\n# a comment: apt-get install libfoo\nRUN apt-get update \\\n"
      " && apt-get install -y --no-install-recommends \\\n     ca-certificates";
  for (const auto& p : d.packages) full += p == "libavformat59" ? "" : " " + p;
  full += " \\\n && rm -rf /var/lib/apt/lists/*\n";
  const auto installed = runtime_stage_packages(full);
  EXPECT_EQ(installed.count("libavformat59"), 0u);
  EXPECT_EQ(installed.count("libfoo"), 0u);
  EXPECT_EQ(installed.count("ca-certificates"), 1u);
  EXPECT_EQ(missing(d, installed), std::vector<std::string>{"libavformat59"});
}

}  // namespace

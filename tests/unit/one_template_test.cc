#include "tests/emulator/one_template.h"

#include <doctest/doctest.h>

#include "rpc/xml_node.h"
#include "tests/emulator/one_state.h"

namespace onedock::emulator {

TEST_CASE("template syntax: quoted and bare values vectors comments and upper-casing") {
  auto t = ParseTemplate(R"(
    name = "web server"   # a comment
    CPU=0.5 MEMORY = 128
    NIC = [ NETWORK_ID = 0, ip = "10.0.0.5" ]
    CONTEXT = [
      START_SCRIPT = "echo \"quoted\" , [x]",
      NETWORK = YES ]
  )");
  REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  CHECK(t->Get("NAME") == "web server");
  CHECK(t->Get("CPU") == "0.5");
  CHECK(t->Get("MEMORY") == "128");
  auto nic = t->All("NIC");
  REQUIRE(nic.size() == 1);
  CHECK(nic[0]->Get("IP") == "10.0.0.5");
  CHECK(t->All("CONTEXT")[0]->Get("START_SCRIPT") == "echo \"quoted\" , [x]");
  CHECK(t->All("CONTEXT")[0]->Get("NETWORK") == "YES");
}

TEST_CASE("template syntax: only a backslash before a quote escapes, and a CDATA end is refused") {
  auto t = ParseTemplate(R"(A = "c:\dir \"x\" \n")");
  REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  CHECK(t->Get("A") == R"(c:\dir "x" \n)");
  CHECK_FALSE(ParseTemplate(R"(B = "end\")").ok());  // the closing quote is escaped
  CHECK_FALSE(ParseTemplate("A = \"x ]]> y\"").ok());
}

TEST_CASE("template syntax errors name the line") {
  for (const char* bad : {"A = \"open", "A = [ B = 1", "= 1", "A 1", "A = [ = 1 ]"}) {
    CAPTURE(bad);
    auto t = ParseTemplate(bad);
    CHECK_FALSE(t.ok());
    CHECK(t.status().message().find("line") != std::string::npos);
  }
}

TEST_CASE(
    "templates render as CDATA XML that survives a CDATA terminator and parse back from XML") {
  Template t;
  t.Set("A", "x]]>y<z>");
  t.attributes.push_back({"V", "", {{"K", "1"}, {"L", "&"}}, true});
  auto doc = rpc::ParseXml(t.ToXml("TEMPLATE"));
  REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
  CHECK(doc->Get("A") == "x]]>y<z>");
  CHECK(doc->Get("V/L") == "&");
  auto back = ParseTemplateOrXml(t.ToXml("TEMPLATE"));
  REQUIRE(back.ok());
  CHECK(back->Get("A") == "x]]>y<z>");
  CHECK(back->All("V")[0]->Get("K") == "1");
}

TEST_CASE("merge replaces single values and vectors of the same name") {
  Template base = *ParseTemplate("A = 1\nB = 2\nV = [ X = 1 ]");
  base.Merge(*ParseTemplate("B = 3\nV = [ Y = 2 ]\nC = 4"));
  CHECK(base.Get("A") == "1");
  CHECK(base.Get("B") == "3");
  CHECK(base.Get("C") == "4");
  REQUIRE(base.All("V").size() == 1);
  CHECK(base.All("V")[0]->Get("Y") == "2");
}

}  // namespace onedock::emulator

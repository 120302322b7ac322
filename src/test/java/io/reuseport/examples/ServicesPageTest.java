package io.reuseport.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/SERVICES.md shows the examples the suite compiles and runs, word for word: the service, its test (which
 * {@link UpperTest} runs 20 times in a row) and the embedding; and the version its Maven snippets name is this
 * project's.
 */
class ServicesPageTest {

  private static final Path PAGE = Path.of("docs/SERVICES.md");
  private static final Path EXAMPLES = Path.of("src/test/java/io/reuseport/examples");

  @Test
  void thePageShowsTheServiceAsTheSuiteCompilesIt() throws IOException {
    assertThat(Files.readString(PAGE)).contains(tagged("UpperCaseService.java", "service"));
  }

  @Test
  void thePageShowsTheTestAsTheSuiteRunsIt() throws IOException {
    assertThat(Files.readString(PAGE)).contains(tagged("UpperTest.java", "test"));
  }

  @Test
  void thePageShowsTheEmbeddingAsTheSuiteRunsIt() throws IOException {
    assertThat(Files.readString(PAGE)).contains(tagged("EmbeddedServer.java", "embed"));
  }

  @Test
  void theMavenSnippetsNameThisVersion() throws IOException {
    Matcher version = Pattern.compile("<artifactId>reuseport-server</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(Path.of("pom.xml")));
    assertThat(version.find()).isTrue();
    String page = Files.readString(PAGE);
    assertThat(page).contains("<version>" + version.group(1) + "</version>");
    Matcher named = Pattern.compile("<artifactId>reuseport-server</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(page);
    while (named.find()) {
      assertThat(named.group(1)).isEqualTo(version.group(1));
    }
  }

  /** The lines between {@code // tag::NAME[]} and {@code // end::NAME[]} of an example file. */
  private static String tagged(String file, String name) throws IOException {
    String text = Files.readString(EXAMPLES.resolve(file));
    String begin = "// tag::" + name + "[]\n";
    int from = text.indexOf(begin);
    int to = text.indexOf("// end::" + name + "[]");
    assertThat(from).as("tag %s in %s", name, file).isNotNegative();
    assertThat(to).as("end of tag %s in %s", name, file).isGreaterThan(from);
    return text.substring(from + begin.length(), to);
  }
}

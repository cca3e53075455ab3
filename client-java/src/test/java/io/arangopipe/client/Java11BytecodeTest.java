package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * client-java promises Java 11: its own classes and every runtime dependency must be class files of
 * version 55 or lower (multi-release entries under META-INF/versions aside). This is what catches a
 * dependency that moved to a newer Java baseline (as resilience4j 2.x did).
 */
class Java11BytecodeTest {
  /** Class file version of the release the client is built for (55 = Java 11). */
  private static final int MAX_VERSION = 44 + Integer.parseInt(System.getProperty("arangopipe.clientRelease", "11"));

  @Test
  void clientAndItsRuntimeDependenciesLoadOnJava11() throws IOException {
    List<String> tooNew = new ArrayList<>();
    Path classes = Paths.get(System.getProperty("arangopipe.clientClasses", "target/classes"));
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
        try (InputStream in = Files.newInputStream(p)) {
          check(p.toString(), in, tooNew);
        }
      }
    }
    String cp = Files.readString(Paths.get(System.getProperty("arangopipe.runtimeClasspathFile",
        "target/runtime-classpath.txt"))).trim();
    int jars = 0;
    for (String entry : cp.split(java.io.File.pathSeparator)) {
      if (!entry.endsWith(".jar")) {
        continue;
      }
      jars++;
      try (JarFile jar = new JarFile(entry)) {
        Enumeration<JarEntry> es = jar.entries();
        while (es.hasMoreElements()) {
          JarEntry e = es.nextElement();
          String n = e.getName();
          if (n.endsWith(".class") && !n.startsWith("META-INF/versions/") && !n.endsWith("module-info.class")) {
            try (InputStream in = jar.getInputStream(e)) {
              check(Paths.get(entry).getFileName() + "!" + n, in, tooNew);
            }
          }
        }
      }
    }
    assertThat(jars).as("runtime dependencies found").isGreaterThanOrEqualTo(5);
    assertThat(tooNew).as("class files newer than Java %d", MAX_VERSION - 44).isEmpty();
  }

  private static void check(String name, InputStream in, List<String> tooNew) throws IOException {
    DataInputStream d = new DataInputStream(in);
    if (d.readInt() != 0xCAFEBABE) {
      return;
    }
    d.readUnsignedShort();
    int major = d.readUnsignedShort();
    if (major > MAX_VERSION && tooNew.size() < 20) {
      tooNew.add(name + " (class file version " + major + ")");
    }
  }
}

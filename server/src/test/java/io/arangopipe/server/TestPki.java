package io.arangopipe.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Certificates for the TLS tests, made by {@code openssl} in a folder: CAs and the certificates they sign. */
public final class TestPki {
  private TestPki() {}

  /** Runs {@code openssl} with the arguments in {@code dir}; fails the test with its output if it fails. */
  public static void openssl(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", cmd) + "\n" + out).isZero();
  }

  /** A self-signed CA valid for two days: {@code <name>.key} and {@code <name>.pem}. */
  public static void ca(Path dir, String name, String commonName) throws Exception {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + commonName,
        "-keyout", name + ".key", "-out", name + ".pem");
  }

  /**
   * A certificate the CA {@code ca} signs, valid for two days: {@code <name>.key} and {@code <name>.pem};
   * with {@code forLocalhost}, its subject alternative names are localhost and 127.0.0.1 (a server's).
   */
  public static void signed(Path dir, String name, String commonName, String ca, boolean forLocalhost)
      throws Exception {
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + commonName, "-keyout", name + ".key",
        "-out", name + ".csr");
    List<String> sign = new ArrayList<>(List.of("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
        ca + ".key", "-CAcreateserial", "-days", "2"));
    if (forLocalhost) {
      Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
      sign.addAll(List.of("-extfile", name + ".ext"));
    }
    sign.addAll(List.of("-out", name + ".pem"));
    openssl(dir, sign.toArray(String[]::new));
  }
}

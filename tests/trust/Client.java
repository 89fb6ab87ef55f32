// Fetches each URL given on the command line with HttpsURLConnection and the JVM's default
// trust (the image's cacerts, or whatever JAVA_TOOL_OPTIONS names), printing one line per URL:
// "<url> ok" or "<url> fail: <reason>". Run as a single-file program: java Client.java URL...
import java.io.InputStream;
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;

public class Client {
    public static void main(String[] args) {
        for (String url : args) {
            try {
                HttpsURLConnection conn = (HttpsURLConnection) new URL(url).openConnection();
                conn.setConnectTimeout(10000);
                conn.setReadTimeout(10000);
                try (InputStream in = conn.getInputStream()) {
                    in.readAllBytes();
                }
                System.out.println(url + " ok");
            } catch (Exception e) {
                System.out.println(url + " fail: " + e.toString().replace('\n', ' '));
            }
        }
    }
}
